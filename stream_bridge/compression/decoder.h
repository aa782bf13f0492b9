#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "stream_bridge/compression/algorithm.h"

namespace aclkd::stream_bridge {

// Most text one block may decode to. A child puts at most 16 KiB of text in a block
// (COMPRESSION_MAX_CHUNK); four times that leaves room for odd senders while bounding what a
// hostile 16 KiB block can expand to.
inline constexpr size_t kMaxBlockOutput = 64 * 1024;

// One algorithm's decompressor: the payloads of one connection's blocks, in order. Every
// algorithm keeps one stream for the whole connection (a block may refer back to the text of
// earlier ones), so a decoder is made per connection and never reused after an error.
class BlockDecoder {
 public:
  virtual ~BlockDecoder() = default;
  // Appends the block's text (at most kMaxBlockOutput bytes) to `out`. False with `error` set
  // ("zstd block of 40 bytes does not decode: Unknown frame descriptor") when the block is
  // corrupt, does not consume all of its bytes, or decodes to more than kMaxBlockOutput.
  virtual bool decode(std::string_view payload, std::string* out, std::string* error) = 0;
  // Forgets the stream (the next block is a new connection's first), keeping the memory.
  virtual void reset() = 0;
};

// nullptr for Compression::kNone.
std::unique_ptr<BlockDecoder> makeBlockDecoder(Compression algorithm);

// The compressed stream of a child (docs/protocol/streaming.md §5): blocks of a 4-byte header
// (0xFA, 0x80|len&0x7F, 0x80|(len>>7)&0x7F, 0x0A) and `len` bytes of payload, the same framing for
// every algorithm. Bytes arrive in arbitrary pieces; decoded text is appended to `out` and may end
// mid-line.
class StreamDecoder {
 public:
  explicit StreamDecoder(Compression algorithm);
  ~StreamDecoder();
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  // Consumes all of `input`. False with `error` set ("bad block header byte 0x41 at offset 1234",
  // "lz4 block of 300 bytes does not decode") on corrupt input; the decoder is then unusable.
  bool feed(std::string_view input, std::string* out, std::string* error);

  // A new stream of the same algorithm, with the memory of this one (the LZ4 history, zstd's and
  // brotli's contexts with their windows). The bridge makes a decoder per connection; the fuzz
  // targets decode one stream per input and must not allocate a window for each.
  void reset();

  Compression algorithm() const { return algorithm_; }
  uint64_t blocks() const { return blocks_; }

 private:
  struct Framing;
  Compression algorithm_;
  std::unique_ptr<BlockDecoder> block_;
  std::unique_ptr<Framing> framing_;
  uint64_t blocks_ = 0;
};

}  // namespace aclkd::stream_bridge
