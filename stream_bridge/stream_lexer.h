#pragma once

// The stream parser's lexer, private to stream_bridge/: the character classes, the word scans
// (eight bytes at a time, quotes and escapes as Netdata's pluginsd reader has them) and the
// keyword classifier. Header-only and inline because they are the per-line hot path of
// stream_parser.cc, its one user.

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace aclkd::stream_bridge::lexer {

enum CharClass : uint8_t { kPlain = 0, kSeparator = 1, kQuote = 2, kEscape = 3 };

constexpr std::array<uint8_t, 256> makeClassTable() {
  std::array<uint8_t, 256> t{};
  for (unsigned char c : {' ', '\t', '\r', '\n', '=', '\f', '\v'}) t[c] = kSeparator;
  t[static_cast<unsigned char>('"')] = kQuote;
  t[static_cast<unsigned char>('\'')] = kQuote;
  t[static_cast<unsigned char>('\\')] = kEscape;
  return t;
}
inline constexpr std::array<uint8_t, 256> kClass = makeClassTable();

inline uint8_t classOf(char c) { return kClass[static_cast<unsigned char>(c)]; }

// Word scanning eight bytes at a time: titles and label values are tens of bytes long, and the
// byte-at-a-time loop was half of the parser's time. The classic "has zero byte" trick flags
// candidate bytes; the lowest flag is always exact (false flags only appear above a real one).
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

inline uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t bytesEqual(uint64_t x, unsigned char b) {
  const uint64_t y = x ^ (kOnes * b);
  return (y - kOnes) & ~y & kHighs;
}
inline uint64_t bytesBelow(uint64_t x, unsigned char n) { return (x - kOnes * n) & ~x & kHighs; }
inline size_t firstFlagged(uint64_t mask) {
  return static_cast<size_t>(__builtin_ctzll(mask)) / 8;  // little-endian: lowest address first
}

// The end of a quoted word: its closing quote, or the end of the line. A backslash makes the
// next character (a quote included) part of the word.
inline __attribute__((always_inline)) const char* quotedWordEnd(const char* p, const char* end, char quote) {
  const auto q = static_cast<unsigned char>(quote);
  while (p < end) {
    if (end - p >= 8) {
      const uint64_t x = load8(p);
      const uint64_t m = bytesEqual(x, q) | bytesEqual(x, '\\');
      if (m == 0) {
        p += 8;
        continue;
      }
      p += firstFlagged(m);
    } else {
      while (p < end && *p != quote && *p != '\\') ++p;
      if (p == end) return p;
    }
    if (*p == quote) return p;
    p += (p + 1 < end) ? 2 : 1;  // the escaped character belongs to the word
  }
  return p;
}

// The end of an unquoted word: the next separator or the end of the line. Separators are
// ' ', '=' and 0x09..0x0D; any byte below 0x0E is only a candidate, confirmed with the table.
inline __attribute__((always_inline)) const char* bareWordEnd(const char* p, const char* end) {
  while (p < end) {
    if (end - p >= 8) {
      const uint64_t x = load8(p);
      const uint64_t m =
          bytesEqual(x, ' ') | bytesEqual(x, '=') | bytesEqual(x, '\\') | bytesBelow(x, 0x0E);
      if (m == 0) {
        p += 8;
        continue;
      }
      p += firstFlagged(m);
    } else {
      while (p < end && classOf(*p) != kSeparator && classOf(*p) != kEscape) ++p;
      if (p == end) return p;
    }
    const uint8_t c = classOf(*p);
    if (c == kSeparator) return p;
    if (c == kEscape) {
      p += (p + 1 < end) ? 2 : 1;
    } else {
      ++p;  // a control character that does not separate
    }
  }
  return p;
}

enum Command : int {
  kUnknown,
  kClaimedId,
  kLabel,
  kOverwrite,
  kChart,
  kClabel,
  kClabelCommit,
  kDimension,
  kFunction,
  kVariable,
  kChartDefinitionEnd,
  kBegin,
  kSet,
  kEnd,
  kBegin2,
  kSet2,
  kEnd2,
  kRbegin,
  kRset,
  kRdstate,
  kRsstate,
  kRend,
  kNodeId,
  kFlush,
  kFunctionDel,
  kFunctionProgress,
  kConfig,
  kDyncfg,
  kFunctionResultBegin,
  kJson,
  kFunctionPayloadBegin,
  kStrayBlockEnd,
};

inline constexpr std::string_view kFunctionResultEnd = "FUNCTION_RESULT_END";
inline constexpr std::string_view kJsonPayloadEnd = "JSON_PAYLOAD_END";
inline constexpr std::string_view kFunctionPayloadEnd = "FUNCTION_PAYLOAD_END";

template <size_t N>
inline bool is(const char* p, const char (&literal)[N]) {
  return std::memcmp(p, literal, N - 1) == 0;
}

// Length first, then one character, then a fixed-size memcmp the compiler turns into one or two
// integer compares: no hashing, no allocation, at most two comparisons per keyword.
inline Command classify(std::string_view k) {
  const char* p = k.data();
  switch (k.size()) {
    case 3:
      if (is(p, "SET")) return kSet;
      if (is(p, "END")) return kEnd;
      break;
    case 4:
      switch (p[0]) {
        case 'S': return is(p, "SET2") ? kSet2 : kUnknown;
        case 'E': return is(p, "END2") ? kEnd2 : kUnknown;
        case 'R':
          if (is(p, "RSET")) return kRset;
          if (is(p, "REND")) return kRend;
          break;
        case 'J': return is(p, "JSON") ? kJson : kUnknown;
      }
      break;
    case 5:
      switch (p[0]) {
        case 'L': return is(p, "LABEL") ? kLabel : kUnknown;
        case 'C': return is(p, "CHART") ? kChart : kUnknown;
        case 'B': return is(p, "BEGIN") ? kBegin : kUnknown;
        case 'F': return is(p, "FLUSH") ? kFlush : kUnknown;
      }
      break;
    case 6:
      switch (p[0]) {
        case 'C':
          if (is(p, "CLABEL")) return kClabel;
          if (is(p, "CONFIG")) return kConfig;
          break;
        case 'B': return is(p, "BEGIN2") ? kBegin2 : kUnknown;
        case 'R': return is(p, "RBEGIN") ? kRbegin : kUnknown;
      }
      break;
    case 7:
      switch (p[1]) {
        case 'D': return is(p, "RDSTATE") ? kRdstate : kUnknown;
        case 'S': return is(p, "RSSTATE") ? kRsstate : kUnknown;
        case 'O': return is(p, "NODE_ID") ? kNodeId : kUnknown;
      }
      break;
    case 8:
      if (is(p, "FUNCTION")) return kFunction;
      if (is(p, "VARIABLE")) return kVariable;
      break;
    case 9:
      if (is(p, "DIMENSION")) return kDimension;
      if (is(p, "OVERWRITE")) return kOverwrite;
      break;
    case 10:
      if (is(p, "CLAIMED_ID")) return kClaimedId;
      break;
    case 12:
      if (is(p, "FUNCTION_DEL")) return kFunctionDel;
      break;
    case 13:
      if (is(p, "CLABEL_COMMIT")) return kClabelCommit;
      break;
    case 16:
      if (is(p, "JSON_PAYLOAD_END")) return kStrayBlockEnd;
      break;
    case 17:
      if (is(p, "FUNCTION_PROGRESS")) return kFunctionProgress;
      break;
    case 19:
      if (is(p, "FUNCTION_RESULT_END")) return kStrayBlockEnd;
      break;
    case 20:
      if (is(p, "CHART_DEFINITION_END")) return kChartDefinitionEnd;
      if (is(p, "FUNCTION_PAYLOAD_END")) return kStrayBlockEnd;
      break;
    case 21:
      if (is(p, "FUNCTION_RESULT_BEGIN")) return kFunctionResultBegin;
      break;
    case 22:
      if (is(p, "FUNCTION_PAYLOAD_BEGIN")) return kFunctionPayloadBegin;
      break;
  }
  if (k.size() > 7 && is(p, "DYNCFG_")) return kDyncfg;
  return kUnknown;
}

}  // namespace aclkd::stream_bridge::lexer
