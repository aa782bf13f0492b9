#include <zlib.h>

#include "stream_bridge/compression/block_decoders.h"

namespace aclkd::stream_bridge::compression_detail {
namespace {

// The child's one deflate stream for the whole connection with the gzip wrapper (window bits
// 15 + 16), Z_SYNC_FLUSH at the end of every block; the member never ends. zlib's window is
// 32 KiB.
class GzipBlockDecoder final : public BlockDecoder {
 public:
  GzipBlockDecoder() { ready_ = inflateInit2(&z_, 15 + 16) == Z_OK; }
  ~GzipBlockDecoder() override {
    if (ready_) inflateEnd(&z_);
  }
  GzipBlockDecoder(const GzipBlockDecoder&) = delete;
  GzipBlockDecoder& operator=(const GzipBlockDecoder&) = delete;
  void reset() override {
    if (ready_) ready_ = inflateReset(&z_) == Z_OK;
  }

  bool decode(std::string_view payload, std::string* out, std::string* error) override {
    if (!ready_) {
      *error = "gzip: cannot initialise zlib";
      return false;
    }
    char* scratch = blockScratch();
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
    z_.avail_in = static_cast<uInt>(payload.size());
    z_.next_out = reinterpret_cast<Bytef*>(scratch);
    z_.avail_out = static_cast<uInt>(kScratchBytes);
    while (z_.avail_in > 0 && z_.avail_out > 0) {
      const uInt before = z_.avail_in + z_.avail_out;
      const int r = inflate(&z_, Z_SYNC_FLUSH);
      if (r == Z_STREAM_END) {
        if (z_.avail_in != 0) {  // a child never ends its member
          *error = corruptError("gzip", payload.size(), "bytes after the end of the stream");
          return false;
        }
        break;
      }
      if (r != Z_OK && r != Z_BUF_ERROR) {
        *error = corruptError("gzip", payload.size(),
                              z_.msg != nullptr ? z_.msg : "inflate error " + std::to_string(r));
        return false;
      }
      if (z_.avail_in + z_.avail_out == before) {
        *error = corruptError("gzip", payload.size(),
                              z_.avail_out == 0 ? "output full" : "no progress (stream ended?)");
        return false;
      }
    }
    if (z_.avail_out == 0) {
      *error = tooBigError("gzip", payload.size());
      return false;
    }
    out->append(scratch, kScratchBytes - z_.avail_out);
    return true;
  }

 private:
  z_stream z_{};
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<BlockDecoder> makeGzipBlockDecoder() {
  return std::make_unique<GzipBlockDecoder>();
}

}  // namespace aclkd::stream_bridge::compression_detail
