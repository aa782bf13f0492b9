#include "stream_bridge/compression/algorithm.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/text.h"
#include "stream_bridge/handshake.h"

namespace aclkd::stream_bridge {
namespace {

// Netdata's order, which is also the order a child picks in from a negotiated set.
constexpr std::array<Compression, 4> kAll = {Compression::kZstd, Compression::kLz4,
                                             Compression::kBrotli, Compression::kGzip};

}  // namespace

std::string_view compressionName(Compression c) {
  switch (c) {
    case Compression::kZstd:
      return "zstd";
    case Compression::kLz4:
      return "lz4";
    case Compression::kBrotli:
      return "brotli";
    case Compression::kGzip:
      return "gzip";
    case Compression::kNone:
      break;
  }
  return "none";
}

std::optional<Compression> compressionFromName(std::string_view name) {
  for (const auto c : kAll) {
    if (asciiEqualsIgnoreCase(name, compressionName(c))) return c;
  }
  return std::nullopt;
}

uint64_t compressionCapability(Compression c) {
  switch (c) {
    case Compression::kZstd:
      return cap::kZstd;
    case Compression::kLz4:
      return cap::kLz4;
    case Compression::kBrotli:
      return cap::kBrotli;
    case Compression::kGzip:
      return cap::kGzip;
    case Compression::kNone:
      break;
  }
  return 0;
}


std::optional<std::vector<Compression>> parseCompressionOrder(std::string_view text,
                                                              std::string* error) {
  std::vector<Compression> order;
  auto add = [&](Compression c) {
    if (std::find(order.begin(), order.end(), c) == order.end()) order.push_back(c);
  };
  size_t at = 0;
  while (at < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[at]))) {
      ++at;
      continue;
    }
    size_t end = at;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    const std::string_view word = text.substr(at, end - at);
    at = end;
    const auto c = compressionFromName(word);
    if (!c) {
      if (error != nullptr) {
        *error = "unknown compression algorithm '" + std::string(word) + "' (known: " +
                 std::string(kDefaultCompressionOrder) + ")";
      }
      return std::nullopt;
    }
    add(*c);
  }
  for (const auto c : kAll) add(c);
  return order;
}

uint64_t selectCompression(uint64_t negotiated, const std::vector<Compression>& order) {
  const uint64_t offered = negotiated & cap::kCompressions;
  uint64_t keep = 0;
  for (const auto c : order) {
    if (offered & compressionCapability(c)) {
      keep = compressionCapability(c);
      break;
    }
  }
  return (negotiated & ~cap::kCompressions) | keep;
}

Compression negotiatedCompression(uint64_t negotiated) {
  for (const auto c : kAll) {
    if (negotiated & compressionCapability(c)) return c;
  }
  return Compression::kNone;
}

}  // namespace aclkd::stream_bridge
