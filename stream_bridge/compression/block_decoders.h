#pragma once

// Internal to stream_bridge/compression: one maker per algorithm, chosen by makeBlockDecoder().

#include <memory>
#include <string>
#include <string_view>

#include "stream_bridge/compression/decoder.h"

namespace aclkd::stream_bridge::compression_detail {

std::unique_ptr<BlockDecoder> makeLz4BlockDecoder();
std::unique_ptr<BlockDecoder> makeZstdBlockDecoder();
std::unique_ptr<BlockDecoder> makeBrotliBlockDecoder();
std::unique_ptr<BlockDecoder> makeGzipBlockDecoder();

// Where zstd, brotli and gzip decode one block before it is appended to the caller's text:
// kScratchBytes (one more than a block may yield, so that "output full" means "too big"), one
// buffer per thread rather than one per connection (every connection of a thread decodes in
// turn, each block to the end).
inline constexpr size_t kScratchBytes = kMaxBlockOutput + 1;
char* blockScratch();

// "<name> block of <n> bytes decodes to more than 65536 bytes"
std::string tooBigError(std::string_view name, size_t payloadBytes);
// "<name> block of <n> bytes does not decode: <why>"
std::string corruptError(std::string_view name, size_t payloadBytes, std::string_view why);

}  // namespace aclkd::stream_bridge::compression_detail
