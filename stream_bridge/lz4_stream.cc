#include "stream_bridge/lz4_stream.h"

#include <lz4.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace aclkd::stream_bridge {
namespace {

constexpr unsigned char kHeaderMagic = 0xFA;
constexpr unsigned char kHeaderEnd = 0x0A;
constexpr size_t kHeaderBytes = 4;
constexpr size_t kMaxPayload = 0x3FFF;  // 14-bit length field
// LZ4 blocks may refer back this far into earlier output.
constexpr size_t kWindow = 64 * 1024;
// A 1.37 child puts at most 16 KiB of text in a block; four times that leaves room for newer or
// odd senders while still bounding what a hostile 16 KiB block can expand to.
constexpr size_t kMaxBlockOutput = 64 * 1024;
// The window plus several blocks: the window is moved back to the start only once per ~2 blocks
// of maximal size, and once per ~1,000 blocks of the typical 130 bytes.
constexpr size_t kHistoryBytes = kWindow + 3 * kMaxBlockOutput;

std::string hexByte(unsigned char b) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned>(b));
  return text;
}

}  // namespace

struct Lz4StreamDecoder::Impl {
  // Decoded output kept contiguous so that the last kWindow bytes sit right before the next
  // block's destination; LZ4 then decodes in its fast "prefix" mode.
  std::unique_ptr<char[]> history{new char[kHistoryBytes]};
  size_t historyEnd = 0;

  std::array<unsigned char, kHeaderBytes> header{};
  size_t headerHave = 0;
  size_t payloadLen = 0;
  // Only a block cut by the end of a piece is copied here.
  std::array<char, kMaxPayload> payload{};
  size_t payloadHave = 0;

  uint64_t offset = 0;  // of the next input byte, for error messages
  std::string failure;  // set once; the decoder then refuses further input

  bool decode(const char* src, size_t len, std::string* out) {
    if (historyEnd + kMaxBlockOutput > kHistoryBytes) {
      std::memmove(history.get(), history.get() + historyEnd - kWindow, kWindow);
      historyEnd = kWindow;
    }
    const size_t dictSize = std::min(historyEnd, kWindow);
    char* dst = history.get() + historyEnd;
    const int n = LZ4_decompress_safe_usingDict(src, dst, static_cast<int>(len),
                                                static_cast<int>(kMaxBlockOutput), dst - dictSize,
                                                static_cast<int>(dictSize));
    if (n < 0) {
      failure = "LZ4 block of " + std::to_string(len) + " bytes does not decode";
      return false;
    }
    out->append(dst, static_cast<size_t>(n));
    historyEnd += static_cast<size_t>(n);
    return true;
  }
};

Lz4StreamDecoder::Lz4StreamDecoder() : impl_(std::make_unique<Impl>()) {}
Lz4StreamDecoder::~Lz4StreamDecoder() = default;

bool Lz4StreamDecoder::feed(std::string_view input, std::string* out, std::string* error) {
  Impl& d = *impl_;
  auto failed = [&] {
    if (error != nullptr) *error = d.failure;
    return false;
  };
  if (!d.failure.empty()) return failed();
  compressedBytes_ += input.size();

  while (!input.empty()) {
    if (d.headerHave < kHeaderBytes) {
      const auto b = static_cast<unsigned char>(input.front());
      const size_t at = d.headerHave;
      const bool ok = at == 0   ? b == kHeaderMagic
                      : at == 3 ? b == kHeaderEnd
                                : (b & 0x80) != 0;
      if (!ok) {
        d.failure = "bad block header byte " + hexByte(b) + " at offset " + std::to_string(d.offset);
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
          // LZ4 cannot encode anything, not even an empty block, in zero bytes.
          d.failure = "LZ4 block of 0 bytes does not decode";
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
    if (!d.decode(src, d.payloadLen, out)) return failed();
    ++blocks_;
    d.headerHave = 0;
    d.payloadHave = 0;
  }
  return true;
}

}  // namespace aclkd::stream_bridge
