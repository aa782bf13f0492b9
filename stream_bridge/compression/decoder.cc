#include "stream_bridge/compression/decoder.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "stream_bridge/compression/block_decoders.h"

namespace aclkd::stream_bridge {
namespace {

constexpr unsigned char kHeaderMagic = 0xFA;  // 'z' | 0x80
constexpr unsigned char kHeaderEnd = 0x0A;
constexpr size_t kHeaderBytes = 4;
constexpr size_t kMaxPayload = 0x3FFF;  // 14-bit length field

std::string hexByte(unsigned char b) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned>(b));
  return text;
}

}  // namespace

namespace compression_detail {

char* blockScratch() {
  thread_local const std::unique_ptr<char[]> scratch(new char[kScratchBytes]);
  return scratch.get();
}

std::string tooBigError(std::string_view name, size_t payloadBytes) {
  return std::string(name) + " block of " + std::to_string(payloadBytes) +
         " bytes decodes to more than " + std::to_string(kMaxBlockOutput) + " bytes";
}

std::string corruptError(std::string_view name, size_t payloadBytes, std::string_view why) {
  return std::string(name) + " block of " + std::to_string(payloadBytes) +
         " bytes does not decode: " + std::string(why);
}

}  // namespace compression_detail

std::unique_ptr<BlockDecoder> makeBlockDecoder(Compression algorithm) {
  using namespace compression_detail;
  switch (algorithm) {
    case Compression::kZstd:
      return makeZstdBlockDecoder();
    case Compression::kLz4:
      return makeLz4BlockDecoder();
    case Compression::kBrotli:
      return makeBrotliBlockDecoder();
    case Compression::kGzip:
      return makeGzipBlockDecoder();
    case Compression::kNone:
      break;
  }
  return nullptr;
}

struct StreamDecoder::Framing {
  std::array<unsigned char, kHeaderBytes> header{};
  size_t headerHave = 0;
  size_t payloadLen = 0;
  // Only a block cut by the end of a piece is copied here.
  std::array<char, kMaxPayload> payload{};
  size_t payloadHave = 0;

  uint64_t offset = 0;  // of the next input byte, for error messages
  std::string failure;  // set once; the decoder then refuses further input
};

StreamDecoder::StreamDecoder(Compression algorithm)
    : algorithm_(algorithm), block_(makeBlockDecoder(algorithm)),
      framing_(std::make_unique<Framing>()) {
  if (!block_) framing_->failure = "no decoder for compression 'none'";
}

StreamDecoder::~StreamDecoder() = default;

void StreamDecoder::reset() {
  Framing& d = *framing_;
  d.headerHave = 0;
  d.payloadLen = 0;
  d.payloadHave = 0;
  d.offset = 0;
  blocks_ = 0;
  if (block_) {
    block_->reset();
    d.failure.clear();
  }
}

bool StreamDecoder::feed(std::string_view input, std::string* out, std::string* error) {
  Framing& d = *framing_;
  auto failed = [&] {
    if (error != nullptr) *error = d.failure;
    return false;
  };
  if (!d.failure.empty()) return failed();

  while (!input.empty()) {
    if (d.headerHave < kHeaderBytes) {
      const auto b = static_cast<unsigned char>(input.front());
      const size_t at = d.headerHave;
      const bool ok = at == 0   ? b == kHeaderMagic
                      : at == 3 ? b == kHeaderEnd
                                : (b & 0x80) != 0;
      if (!ok) {
        d.failure =
            "bad block header byte " + hexByte(b) + " at offset " + std::to_string(d.offset);
        return failed();
      }
      d.header[at] = b;
      ++d.headerHave;
      ++d.offset;
      input.remove_prefix(1);
      if (d.headerHave == kHeaderBytes) {
        d.payloadLen = (d.header[1] & 0x7Fu) | ((d.header[2] & 0x7Fu) << 7);
        d.payloadHave = 0;
        if (d.payloadLen == 0) {
          // No algorithm encodes anything, not even an empty flush, in zero bytes (and Netdata's
          // receiver treats a zero length as a broken header).
          d.failure = std::string(compressionName(algorithm_)) + " block of 0 bytes at offset " +
                      std::to_string(d.offset - kHeaderBytes);
          return failed();
        }
      }
      continue;
    }

    const size_t need = d.payloadLen - d.payloadHave;
    const char* src = nullptr;
    if (d.payloadHave == 0 && input.size() >= need) {
      src = input.data();
      input.remove_prefix(need);
      d.offset += need;
    } else {
      const size_t take = std::min(need, input.size());
      std::memcpy(d.payload.data() + d.payloadHave, input.data(), take);
      d.payloadHave += take;
      d.offset += take;
      input.remove_prefix(take);
      if (d.payloadHave < d.payloadLen) break;
      src = d.payload.data();
    }
    std::string why;
    if (!block_->decode(std::string_view(src, d.payloadLen), out, &why)) {
      d.failure = why + " (block " + std::to_string(blocks_ + 1) + ", ending at offset " +
                  std::to_string(d.offset) + ")";
      return failed();
    }
    ++blocks_;
    d.headerHave = 0;
    d.payloadHave = 0;
  }
  return true;
}

}  // namespace aclkd::stream_bridge
