#include <zstd.h>

#include "stream_bridge/compression/block_decoders.h"

namespace aclkd::stream_bridge::compression_detail {
namespace {

// A frame states its window and the decoder allocates it, so a hostile child could otherwise ask
// for 128 MiB (zstd's default limit). 8 MiB covers every level up to 19 (a v2 child uses 3, a
// 2 MiB window); the ultra levels are refused with a clear error.
constexpr int kWindowLogMax = 23;

// The child's one ZSTD_CStream for the whole connection, flushed at the end of every block
// (ZSTD_compressStream + ZSTD_flushStream); the frame never ends. One ZSTD_DCtx decodes it.
class ZstdBlockDecoder final : public BlockDecoder {
 public:
  ZstdBlockDecoder() : ctx_(ZSTD_createDCtx()) {
    if (ctx_ != nullptr) ZSTD_DCtx_setParameter(ctx_, ZSTD_d_windowLogMax, kWindowLogMax);
  }
  ~ZstdBlockDecoder() override { ZSTD_freeDCtx(ctx_); }
  ZstdBlockDecoder(const ZstdBlockDecoder&) = delete;
  ZstdBlockDecoder& operator=(const ZstdBlockDecoder&) = delete;

  bool decode(std::string_view payload, std::string* out, std::string* error) override {
    if (ctx_ == nullptr) {
      *error = "zstd: cannot create a decompression context";
      return false;
    }
    char* scratch = blockScratch();
    ZSTD_inBuffer in{payload.data(), payload.size(), 0};
    ZSTD_outBuffer dst{scratch, kScratchBytes, 0};
    while (in.pos < in.size) {
      const size_t before = in.pos + dst.pos;
      const size_t r = ZSTD_decompressStream(ctx_, &dst, &in);
      if (ZSTD_isError(r)) {
        *error = corruptError("zstd", payload.size(), ZSTD_getErrorName(r));
        return false;
      }
      if (dst.pos == dst.size) break;
      if (in.pos + dst.pos == before) {  // no progress with room left: cannot happen, but bound it
        *error = corruptError("zstd", payload.size(), "no progress");
        return false;
      }
    }
    if (dst.pos == dst.size) {
      *error = tooBigError("zstd", payload.size());
      return false;
    }
    out->append(scratch, dst.pos);
    return true;
  }
  // The context keeps its window buffer for the next frame.
  void reset() override {
    if (ctx_ != nullptr) ZSTD_DCtx_reset(ctx_, ZSTD_reset_session_only);
  }

 private:
  ZSTD_DCtx* ctx_;
};

}  // namespace

std::unique_ptr<BlockDecoder> makeZstdBlockDecoder() {
  return std::make_unique<ZstdBlockDecoder>();
}

}  // namespace aclkd::stream_bridge::compression_detail
