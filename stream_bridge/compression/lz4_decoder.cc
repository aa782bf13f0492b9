#include <lz4.h>

#include <algorithm>
#include <cstring>

#include "stream_bridge/compression/block_decoders.h"

namespace aclkd::stream_bridge::compression_detail {
namespace {

// LZ4 blocks may refer back this far into earlier output.
constexpr size_t kWindow = 64 * 1024;
// The window plus several blocks: the window is moved back to the start only once per ~2 blocks
// of maximal size, and once per ~1,000 blocks of the typical 130 bytes.
constexpr size_t kHistoryBytes = kWindow + 3 * kMaxBlockOutput;

// One LZ4 streaming compressor on the child, so each block may use the previous 64 KiB of output
// as its dictionary (LZ4_compress_fast_continue). Decoded output is kept contiguous so that the
// last kWindow bytes sit right before the next block's destination; LZ4 then decodes in its fast
// "prefix" mode.
class Lz4BlockDecoder final : public BlockDecoder {
 public:
  bool decode(std::string_view payload, std::string* out, std::string* error) override {
    if (historyEnd_ + kMaxBlockOutput > kHistoryBytes) {
      std::memmove(history_.get(), history_.get() + historyEnd_ - kWindow, kWindow);
      historyEnd_ = kWindow;
    }
    const size_t dictSize = std::min(historyEnd_, kWindow);
    char* dst = history_.get() + historyEnd_;
    const int n = LZ4_decompress_safe_usingDict(
        payload.data(), dst, static_cast<int>(payload.size()), static_cast<int>(kMaxBlockOutput),
        dst - dictSize, static_cast<int>(dictSize));
    if (n < 0) {
      // LZ4 cannot tell a block that is too big from a corrupt one.
      *error = corruptError("lz4", payload.size(), "corrupt or larger than 65536 bytes");
      return false;
    }
    out->append(dst, static_cast<size_t>(n));
    historyEnd_ += static_cast<size_t>(n);
    return true;
  }
  void reset() override { historyEnd_ = 0; }

 private:
  std::unique_ptr<char[]> history_{new char[kHistoryBytes]};
  size_t historyEnd_ = 0;
};

}  // namespace

std::unique_ptr<BlockDecoder> makeLz4BlockDecoder() { return std::make_unique<Lz4BlockDecoder>(); }

}  // namespace aclkd::stream_bridge::compression_detail
