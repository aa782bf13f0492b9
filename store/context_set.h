#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/context_record.h"

namespace aclkd::store {

// A node's contexts as the store keeps them: one value per node, not one row per context.
//
// Why: a fleet's definition burst is ~312 contexts per node (3.1 million at 10,000 children),
// and a reconnect storm changes every one of them (their last entry). As rows, SQLite paid
// ~3.7 µs of a core for each (a B-tree insert under a 40-byte key, plus the copies on the way:
// 11.4 CPU s for one burst of 10,000), and start-up read 300,000 rows one by one at 1,000 nodes.
// As one compressed value per node, a burst is 10,000 inserts and a start-up 1,000 reads; a
// node whose contexts change is written whole, which costs its ~40 KB of text once per batch
// window at most (the collector coalesces a node's changes within the window).
//
// Encoding (version 1): one byte `1`, then a zstd frame (its content size recorded) of
//   varint count, then per context: str id, varint version, varint first entry,
//   varint last entry, byte deleted (0 or 1), str title, varint priority, str chart type,
//   str units, str family;  str = varint length + the bytes.
// Varints are LEB128 (7 bits a byte, low first, at most 10 bytes).
class ContextSetEncoder {
 public:
  void add(std::string_view id, uint64_t version, uint64_t firstEntry, uint64_t lastEntry,
           bool deleted, std::string_view title, uint64_t priority, std::string_view chartType,
           std::string_view units, std::string_view family);
  void add(const ContextRecord& c);
  size_t count() const { return count_; }
  // The encoded set; the encoder is empty again afterwards.
  std::string finish();

 private:
  std::string body_;
  size_t count_ = 0;
};

std::string encodeContextSet(const std::vector<ContextRecord>& contexts);

// The largest set a value may expand to: a node of 65,536 contexts of ~1 KB of text each. A
// value that claims more is refused before anything is allocated for it.
constexpr size_t kMaxContextSetBytes = 64u << 20;

// Decodes `encoded` into `out` (replacing its contents). On anything malformed (an unknown
// version, a damaged frame, a size past kMaxContextSetBytes, a field past the end, bytes left
// over) it returns false with `error` saying what, never reading past the input. Bytes that
// decode are taken as they are: the strings were checked when the stream sent them.
bool decodeContextSet(std::string_view encoded, std::vector<ContextRecord>* out,
                      std::string* error);

}  // namespace aclkd::store
