#include <brotli/decode.h>

#include "stream_bridge/compression/block_decoders.h"

namespace aclkd::stream_bridge::compression_detail {
namespace {

// The child's one brotli encoder for the whole connection, BROTLI_OPERATION_FLUSH at the end of
// every block; the stream never finishes. Brotli's window is at most 16 MiB without the "large
// window" extension, which stays off here.
class BrotliBlockDecoder final : public BlockDecoder {
 public:
  BrotliBlockDecoder() : state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~BrotliBlockDecoder() override { BrotliDecoderDestroyInstance(state_); }
  BrotliBlockDecoder(const BrotliBlockDecoder&) = delete;
  BrotliBlockDecoder& operator=(const BrotliBlockDecoder&) = delete;

  bool decode(std::string_view payload, std::string* out, std::string* error) override {
    if (state_ == nullptr) {
      *error = "brotli: cannot create a decoder";
      return false;
    }
    char* scratch = blockScratch();
    size_t availableIn = payload.size();
    auto nextIn = reinterpret_cast<const uint8_t*>(payload.data());
    size_t availableOut = kScratchBytes;
    auto nextOut = reinterpret_cast<uint8_t*>(scratch);
    const auto result = BrotliDecoderDecompressStream(state_, &availableIn, &nextIn,
                                                      &availableOut, &nextOut, nullptr);
    if (result == BROTLI_DECODER_RESULT_ERROR) {
      *error = corruptError("brotli", payload.size(),
                            BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state_)));
      return false;
    }
    if (result == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT || availableOut == 0) {
      *error = tooBigError("brotli", payload.size());
      return false;
    }
    if (availableIn != 0) {  // only after the stream's end, which a child never sends
      *error = corruptError("brotli", payload.size(), "bytes after the end of the stream");
      return false;
    }
    out->append(scratch, kScratchBytes - availableOut);
    return true;
  }
  // Brotli's API has no reset: a new state (its ring buffer comes with the next stream's header).
  void reset() override {
    BrotliDecoderDestroyInstance(state_);
    state_ = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  }

 private:
  BrotliDecoderState* state_;
};

}  // namespace

std::unique_ptr<BlockDecoder> makeBrotliBlockDecoder() {
  return std::make_unique<BrotliBlockDecoder>();
}

}  // namespace aclkd::stream_bridge::compression_detail
