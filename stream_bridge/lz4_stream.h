#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace aclkd::stream_bridge {

// Netdata 1.37's compressed stream (stream-protocol.md §5.1): blocks of a 4-byte header
// (0xFA, 0x80|len&0x7F, 0x80|(len>>7)&0x7F, 0x0A) and one LZ4 block of `len` bytes from one LZ4
// streaming compressor, so each block may refer to the previous 64 KiB of output. Bytes arrive in
// arbitrary pieces; decoded text is appended to `out` and may end mid-line.
class Lz4StreamDecoder {
 public:
  Lz4StreamDecoder();
  ~Lz4StreamDecoder();
  Lz4StreamDecoder(const Lz4StreamDecoder&) = delete;
  Lz4StreamDecoder& operator=(const Lz4StreamDecoder&) = delete;

  // Consumes all of `input`. False with `error` set ("bad block header byte 0x41 at offset 1234",
  // "LZ4 block of 300 bytes does not decode") on corrupt input; the decoder is then unusable.
  bool feed(std::string_view input, std::string* out, std::string* error);

  uint64_t blocks() const { return blocks_; }
  uint64_t compressedBytes() const { return compressedBytes_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t blocks_ = 0;
  uint64_t compressedBytes_ = 0;
};

}  // namespace aclkd::stream_bridge
