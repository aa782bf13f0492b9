// One libFuzzer target per decoder: built once per algorithm with
// -DACLKD_FUZZ_COMPRESSION=kZstd (kLz4, kBrotli, kGzip) by tests/fuzz/CMakeLists.txt.
//
// Each input is used twice: as raw wire bytes (the decoder may refuse them but must not crash,
// hang or yield more than kMaxBlockOutput per block), and as text that a child's compressor
// turns into blocks cut at input-chosen sizes, which must decode back to the same text in
// input-chosen pieces. One decoder and one compressor serve every input, reset between them:
// a fresh zstd compressor and decoder window per input cost megabytes of allocation each time.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "stream_bridge/compression/decoder.h"
#include "unit/child_compressor.h"

namespace {

using aclkd::stream_bridge::Compression;
using aclkd::stream_bridge::kMaxBlockOutput;
using aclkd::stream_bridge::StreamDecoder;

constexpr Compression kAlgorithm = Compression::ACLKD_FUZZ_COMPRESSION;

StreamDecoder& reusedDecoder() {
  static StreamDecoder decoder(kAlgorithm);
  return decoder;
}

void decodeRaw(std::string_view input, size_t piece) {
  StreamDecoder& decoder = reusedDecoder();
  decoder.reset();
  std::string out, error;
  uint64_t blocksBefore = 0;
  while (!input.empty()) {
    const size_t n = std::min(piece, input.size());
    out.clear();
    if (!decoder.feed(input.substr(0, n), &out, &error)) {
      if (error.empty()) __builtin_trap();
      return;
    }
    if (out.size() > (decoder.blocks() - blocksBefore) * kMaxBlockOutput) __builtin_trap();
    blocksBefore = decoder.blocks();
    input.remove_prefix(n);
  }
}

void roundTrip(std::string_view text, size_t chunk, size_t piece) {
  using namespace aclkd::stream_bridge::testing_support;
  static ReusedCompressor compressor(kAlgorithm);
  if (!decodesBackTo(reusedDecoder(), compressor.compressFramed(text, chunk), piece, text)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t piece = size > 0 ? data[0] % 61 + 1 : 1;
  const size_t chunk = size > 1 ? (data[size - 1] % 16 + 1) * 512 : 4096;
  decodeRaw(input, piece);
  decodeRaw(input, input.size() + 1);
  roundTrip(input, chunk, piece * 7);
  return 0;
}
