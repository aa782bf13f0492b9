#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aclkd::stream_bridge {

// The compressions a Netdata child may offer (docs/protocol/streaming.md §4.2, §5): LZ4 since 1.37
// (bit 10), zstd, gzip and brotli since v1.44 (bits 19, 20, 21).
enum class Compression { kNone, kZstd, kLz4, kBrotli, kGzip };

// "none", "zstd", "lz4", "brotli", "gzip": the names of stream.conf and of `aclkctl streams`.
std::string_view compressionName(Compression c);
// The name, case-insensitively; nullopt for anything else ("none" included: it is no algorithm).
std::optional<Compression> compressionFromName(std::string_view name);
// The capability bit of an algorithm (0 for kNone).
uint64_t compressionCapability(Compression c);

// A Netdata parent's default order of preference (RRDPUSH_COMPRESSION_ALGORITHMS_ORDER).
inline constexpr std::string_view kDefaultCompressionOrder = "zstd lz4 brotli gzip";

// `compression algorithms order`: names separated by white space, as Netdata splits them.
// Repeats are dropped; the algorithms not named follow in the default order, as in Netdata ("all
// participate"), so the result always holds all four. nullopt with `error` ("unknown compression
// algorithm 'xz' (known: zstd lz4 brotli gzip)") when a word names no algorithm: Netdata skips
// such a word silently, aclkd refuses the file so that a typo does not go unnoticed.
std::optional<std::vector<Compression>> parseCompressionOrder(std::string_view text,
                                                              std::string* error);

// The parent's choice (Netdata's rrdpush_select_receiver_compression_algorithm): when the
// negotiated set holds more than one compression bit, keep the first of `order` that it holds and
// clear the others. An empty `order` clears them all (compression disabled).
uint64_t selectCompression(uint64_t negotiated, const std::vector<Compression>& order);

// What a child compresses with for a negotiated set: the first bit in the order zstd, lz4,
// brotli, gzip (the child's own fixed order, which the decoder must follow).
Compression negotiatedCompression(uint64_t negotiated);

}  // namespace aclkd::stream_bridge
