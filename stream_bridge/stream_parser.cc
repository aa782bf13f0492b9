#include "stream_bridge/stream_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "stream_bridge/stream_lexer.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace aclkd::stream_bridge {
namespace {

using namespace lexer;  // stream_lexer.h: the parser is its one user

int base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strtoll-like (stops at the first non-digit, so "2.0000000" is 2, garbage is 0) and also the v2
// encodings of docs/protocol/streaming.md §8.3: `#` base64 and `0x` hex, after an optional minus.
// Saturates rather than overflowing: the values are timestamps and factors from an untrusted peer.
int64_t parseInt(std::string_view s) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  uint64_t v = 0;
  bool saturated = false;
  if (i < s.size() && s[i] == '#') {
    for (++i; i < s.size() && base64Digit(s[i]) >= 0; ++i) {
      if (v >> 58) saturated = true;
      v = (v << 6) | static_cast<uint64_t>(base64Digit(s[i]));
    }
  } else if (i + 1 < s.size() && s[i] == '0' && s[i + 1] == 'x') {
    for (i += 2; i < s.size() && hexDigit(s[i]) >= 0; ++i) {
      if (v >> 60) saturated = true;
      v = (v << 4) | static_cast<uint64_t>(hexDigit(s[i]));
    }
  } else {
    // Nineteen digits cannot overflow 64 bits, so only longer numbers pay for a check.
    const size_t fast = std::min(s.size(), i + 19);
    for (; i < fast && s[i] >= '0' && s[i] <= '9'; ++i) {
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    }
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      const auto d = static_cast<uint64_t>(s[i] - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) {
        saturated = true;
        break;
      }
      v = v * 10 + d;
    }
  }
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (saturated || v > kMax) return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(v);
  }
  if (saturated || v > kMax) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(v);
}

uint32_t parseSource(std::string_view s) {
  const int64_t v = parseInt(s);
  if (v < 0) return 0;
  if (v > static_cast<int64_t>(std::numeric_limits<uint32_t>::max())) {
    return std::numeric_limits<uint32_t>::max();
  }
  return static_cast<uint32_t>(v);
}

int clampInt(int64_t v) {
  if (v > std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
  if (v < std::numeric_limits<int>::min()) return std::numeric_limits<int>::min();
  return static_cast<int>(v);
}

}  // namespace

size_t splitWords(std::string_view line, std::array<std::string_view, kMaxWords>& words) {
  const char* p = line.data();
  const char* const end = p + line.size();
  size_t n = 0;
  while (n < words.size()) {
    while (p < end && classOf(*p) == kSeparator) ++p;
    if (p == end) break;
    if (classOf(*p) == kQuote) {
      // Only a quote that opens a word quotes; its twin closes the word and then acts as a
      // separator, so `"a"b` is two words, as in Netdata.
      const char quote = *p++;
      const char* start = p;
      p = quotedWordEnd(p, end, quote);
      words[n++] = std::string_view(start, static_cast<size_t>(p - start));
      if (p < end) ++p;
      continue;
    }
    const char* start = p;
    p = bareWordEnd(p, end);
    words[n++] = std::string_view(start, static_cast<size_t>(p - start));
  }
  return n;
}

StreamParser::StreamParser(StreamEvents& events, size_t maxLineBytes)
    : events_(events), maxLine_(maxLineBytes) {}

bool StreamParser::tooLong(size_t bytes, std::string* error) {
  failure_ = "line of " + std::to_string(bytes) + " bytes exceeds the limit of " +
             std::to_string(maxLine_) + " bytes";
  partial_.clear();
  partial_.shrink_to_fit();
  if (error != nullptr) *error = failure_;
  return false;
}

// Newlines are found a 64-byte block at a time: one bit mask per block (SSE2 compares, which
// every x86-64 has), then each line by its bit. A sample line is ~30 bytes, so a memchr call per
// line paid its set-up for two or three lines' worth of bytes.
template <typename OnLine>
const char* StreamParser::forEachLine(const char* p, const char* end, OnLine&& onLine) {
  const char* lineStart = p;
#if defined(__SSE2__)
  const __m128i newline = _mm_set1_epi8('\n');
  auto mask16 = [&](const char* q) -> uint64_t {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)));
  };
  for (; end - p >= 64; p += 64) {
    uint64_t mask = mask16(p) | mask16(p + 16) << 16 | mask16(p + 32) << 32 | mask16(p + 48) << 48;
    while (mask != 0) {
      const char* nl = p + __builtin_ctzll(mask);
      mask &= mask - 1;
      if (!onLine(lineStart, nl)) return nullptr;
      lineStart = nl + 1;
    }
  }
#endif
  while (p < end) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) break;
    if (!onLine(lineStart, nl)) return nullptr;
    lineStart = p = nl + 1;
  }
  return lineStart;
}

bool StreamParser::feed(std::string_view text, std::string* error) {
  const bool ok = feedLines(text, error);
  // The current chart may be a view into `text` (BEGIN does not copy it): keep it past the call.
  if (!current_.empty() && current_.data() != currentStore_.data()) {
    currentStore_.assign(current_);
    current_ = currentStore_;
  }
  return ok;
}

bool StreamParser::feedLines(std::string_view text, std::string* error) {
  if (!failure_.empty()) {
    if (error != nullptr) *error = failure_;
    return false;
  }
  stats_.bytes += text.size();
  const char* p = text.data();
  const char* const end = p + text.size();

  if (resultMidLine_) {
    // The rest of a long result body line whose start was passed on already.
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', text.size()));
    passLongResultLine(std::string_view(p, static_cast<size_t>((nl != nullptr ? nl : end) - p)),
                       nl != nullptr);
    if (nl == nullptr) return true;
    p = nl + 1;
  }

  if (!partial_.empty()) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const size_t piece = static_cast<size_t>((nl != nullptr ? nl : end) - p);
    if (partial_.size() + piece > maxLine_) {
      if (!inResult_) return tooLong(partial_.size() + piece, error);
      // A result body may hold lines of any length (up to what the call accepts): they are
      // passed on in parts rather than held whole.
      passLongResultLine(partial_, false);
      partial_.clear();
      passLongResultLine(std::string_view(p, piece), nl != nullptr);
      if (nl == nullptr) return true;
      p = nl + 1;
    } else {
      partial_.append(p, piece);
      if (nl == nullptr) return true;
      parseLine(partial_);
      if (!current_.empty() && current_.data() >= partial_.data() &&
          current_.data() < partial_.data() + partial_.size()) {
        currentStore_.assign(current_);
        current_ = currentStore_;
      }
      partial_.clear();
      p = nl + 1;
    }
  }

  size_t overLong = 0;
  p = forEachLine(p, end, [&](const char* line, const char* nl) {
    const auto length = static_cast<size_t>(nl - line);
    if (length > maxLine_) {
      if (!inResult_) {
        overLong = length;
        return false;
      }
      // Whole or in parts, a result line past the limit is body, never the block's end: the
      // outcome must not depend on how the bytes were cut.
      passLongResultLine(std::string_view(line, length), true);
      return true;
    }
    parseLine(std::string_view(line, length));
    return true;
  });
  if (p == nullptr) return tooLong(overLong, error);

  if (p < end) {
    const auto rest = static_cast<size_t>(end - p);
    if (rest > maxLine_) {
      if (!inResult_) return tooLong(rest, error);
      passLongResultLine(std::string_view(p, rest), false);
      return true;
    }
    partial_.assign(p, rest);
  }
  return true;
}

void StreamParser::passLongResultLine(std::string_view piece, bool lineEnds) {
  if (!resultMidLine_) ++stats_.skippedBlockLines;  // counted once, at the line's first piece
  if (!piece.empty()) events_.onFunctionResultBody(piece);
  resultMidLine_ = !lineEnds;
  if (lineEnds) {
    ++stats_.lines;
    events_.onFunctionResultBody("\n");
  }
}

void StreamParser::parseLine(std::string_view line) {
  ++stats_.lines;
  const char* p = line.data();
  const char* const end = p + line.size();
  while (p < end && classOf(*p) == kSeparator) ++p;

  if (!blockEnd_.empty()) {
    // The body of a block is arbitrary text: only its closer, as the line's first word, ends it.
    const auto rest = static_cast<size_t>(end - p);
    if (rest >= blockEnd_.size() && std::memcmp(p, blockEnd_.data(), blockEnd_.size()) == 0 &&
        (rest == blockEnd_.size() || classOf(p[blockEnd_.size()]) == kSeparator)) {
      blockEnd_ = {};
      if (inResult_) {
        inResult_ = false;
        events_.onFunctionResultEnd();
      }
      if (collectPath_) {
        collectPath_ = false;
        events_.onStreamPath(path_);
        std::string().swap(path_);
      }
    } else {
      ++stats_.skippedBlockLines;
      if (inResult_) {
        // The body as the child wrote it, indentation included.
        events_.onFunctionResultBody(line);
        events_.onFunctionResultBody("\n");
      }
      // A path is a few hundred bytes per hop; more than a line's limit is not one.
      if (collectPath_ && path_.size() + line.size() < maxLine_) {
        path_.append(line);
        path_.push_back('\n');
      }
    }
    return;
  }
  if (p == end) return;

  // Fast paths for the lines of a sample block, the bulk of a stream: the same outcome as the
  // general path below, without classifying a keyword or splitting words.
  const auto rest = static_cast<size_t>(end - p);
  if (rest >= 4 && std::memcmp(p, "SET", 3) == 0 && classOf(p[3]) == kSeparator) {
    ++stats_.sampleLines;
    return;
  }
  if (rest >= 3 && std::memcmp(p, "END", 3) == 0 && (rest == 3 || classOf(p[3]) == kSeparator)) {
    current_ = {};
    return;
  }
  if (rest >= 6 && std::memcmp(p, "BEGIN", 5) == 0 && classOf(p[5]) == kSeparator) {
    // Only the chart name is needed: the rest of the line (the interval) is not split.
    const char* q = p + 6;
    while (q < end && classOf(*q) == kSeparator) ++q;
    std::string_view chart;
    if (q < end && classOf(*q) == kQuote) {
      const char* start = q + 1;
      chart = std::string_view(start, static_cast<size_t>(quotedWordEnd(start, end, *q) - start));
    } else {
      chart = std::string_view(q, static_cast<size_t>(bareWordEnd(q, end) - q));
    }
    if (!chart.empty() && !(chart.size() >= 5 && std::memcmp(chart.data(), "SLOT:", 5) == 0)) {
      current_ = chart;
      ++stats_.sampleBlocks;
      events_.onSamples(chart, 0);
      return;
    }
  }

  const std::string_view text(p, rest);
  size_t n = 0;
  std::string_view keyword;
  if (classOf(*p) == kQuote) {
    // A quoted keyword is legal for Netdata's splitter; rare enough to split the line at once.
    n = splitWords(text, words_);
    keyword = words_[0];
  } else {
    // The keyword alone decides most sample lines, so it is found without splitting the line.
    keyword = std::string_view(p, static_cast<size_t>(bareWordEnd(p, end) - p));
  }

  const Command command = classify(keyword);
  switch (command) {
    case kSet:
    case kSet2:
    case kRset:
    case kRdstate:
    case kRsstate:
      ++stats_.sampleLines;
      return;
    case kEnd:
    case kEnd2:
      current_ = {};
      return;
    case kNodeId:
    case kConfig:
    case kDyncfg:
      return;
    case kFlush:
      current_ = {};
      return;
    case kFunctionResultBegin: {
      blockEnd_ = kFunctionResultEnd;
      inResult_ = true;
      ++stats_.functionResults;
      if (n == 0) n = splitWords(text, words_);
      auto word = [&](size_t i) { return i < n ? words_[i] : std::string_view{}; };
      // Netdata reads a missing or non-positive code as 503 ("backend response invalid").
      int64_t code = parseInt(word(2));
      if (code <= 0 || code > 999) code = 503;
      events_.onFunctionResultBegin(word(1), static_cast<int>(code), word(3),
                                    parseInt(word(4)));
      return;
    }
    case kJson:
      blockEnd_ = kJsonPayloadEnd;
      if (splitWords(text, words_) > 1 && words_[1] == "STREAM_PATH") {
        collectPath_ = true;
        path_.clear();
      }
      return;
    case kFunctionPayloadBegin:
      blockEnd_ = kFunctionPayloadEnd;
      return;
    case kStrayBlockEnd:
      ++stats_.malformedLines;
      return;
    case kUnknown:
      events_.onUnknownKeyword(keyword);
      return;
    default:
      break;
  }
  if (n == 0) n = splitWords(text, words_);
  dispatch(command, words_, n);
}

void StreamParser::dispatch(int command, const Words& w, size_t n) {
  // Arguments are numbered from 1 after the keyword and an optional `SLOT:<n>` (§4.2 SLOTS).
  size_t first = 1;
  if (n > 1 && w[1].size() >= 5 && std::memcmp(w[1].data(), "SLOT:", 5) == 0) first = 2;
  const size_t argc = n - first;
  auto arg = [&](size_t i) -> std::string_view {
    return i <= argc ? w[first + i - 1] : std::string_view{};
  };
  auto malformed = [&] { ++stats_.malformedLines; };
  const bool haveChart = !current_.empty();

  switch (command) {
    case kClaimedId:
      if (argc < 2 || arg(1).empty()) return malformed();
      events_.onClaimedId(arg(1), arg(2));
      return;

    case kLabel: {
      if (argc < 3 || arg(1).empty()) return malformed();
      std::string_view value = arg(3);
      if (argc > 3) {
        // Netdata joins the extra words into the value rather than rejecting the line.
        scratch_.assign(value);
        for (size_t i = 4; i <= argc; ++i) {
          scratch_.push_back(' ');
          scratch_.append(arg(i));
        }
        value = scratch_;
      }
      events_.onHostLabel(arg(1), value, parseSource(arg(2)));
      return;
    }

    case kOverwrite:
      events_.onHostLabelsCommit();
      return;

    case kChart: {
      const std::string_view id = arg(1);
      const size_t dot = id.find('.');
      if (dot == std::string_view::npos || dot == 0 || dot + 1 == id.size()) {
        // Later chart-scoped lines must not land on the previous chart.
        current_ = {};
        return malformed();
      }
      current_ = id;
      ChartDefinition chart;
      chart.id = current_;
      chart.name = arg(2);
      chart.title = arg(3);
      chart.units = arg(4);
      chart.family = arg(5);
      chart.context = arg(6);
      chart.chartType = arg(7);
      chart.priority = parseInt(arg(8));
      chart.updateEvery = clampInt(parseInt(arg(9)));
      chart.options = arg(10);
      chart.plugin = arg(11);
      chart.module = arg(12);
      events_.onChart(chart);
      return;
    }

    case kClabel:
      if (!haveChart || argc < 3 || arg(1).empty()) return malformed();
      events_.onChartLabel(current_, arg(1), arg(2), parseSource(arg(3)));
      return;

    case kClabelCommit:
      if (!haveChart) return malformed();
      events_.onChartLabelsCommit(current_);
      return;

    case kDimension: {
      if (!haveChart || arg(1).empty()) return malformed();
      DimensionDefinition dim;
      dim.id = arg(1);
      dim.name = arg(2);
      dim.algorithm = arg(3);
      // Netdata turns a missing or zero factor into 1; a zero divisor would poison every value.
      if (const int64_t m = parseInt(arg(4)); m != 0) dim.multiplier = m;
      if (const int64_t d = parseInt(arg(5)); d != 0) dim.divisor = d;
      dim.options = arg(6);
      events_.onDimension(current_, dim);
      return;
    }

    case kFunction: {
      const bool global = arg(1) == "GLOBAL";
      const size_t at = global ? 2 : 1;  // the name's argument
      if (arg(at).empty() || (!global && !haveChart)) return malformed();
      FunctionDeclaration f;
      f.name = arg(at);
      f.timeoutSeconds = clampInt(std::max<int64_t>(0, parseInt(arg(at + 1))));
      f.help = arg(at + 2);
      f.tags = arg(at + 3);
      const std::string_view access = arg(at + 4);
      if (access.size() > 2 && access[0] == '0' && access[1] == 'x') {
        const int64_t bits = parseInt(access);
        f.accessKnown = bits >= 0 && bits <= std::numeric_limits<uint32_t>::max();
        if (f.accessKnown) f.access = static_cast<uint32_t>(bits);
      }
      f.priority = clampInt(std::max<int64_t>(0, parseInt(arg(at + 5))));
      f.version = parseSource(arg(at + 6));
      events_.onFunction(global ? std::string_view{} : current_, f);
      return;
    }

    case kFunctionDel: {
      const bool global = arg(1) == "GLOBAL";
      const std::string_view name = arg(global ? 2 : 1);
      if (name.empty() || (!global && !haveChart)) return malformed();
      events_.onFunctionDel(global ? std::string_view{} : current_, name);
      return;
    }

    case kFunctionProgress:
      if (arg(1).empty()) return malformed();
      events_.onFunctionProgress(arg(1), parseInt(arg(2)), parseInt(arg(3)));
      return;

    case kVariable: {
      // Without a scope word the variable belongs to the current chart, or to the host when
      // there is none, as in Netdata.
      std::string_view scope = arg(1);
      bool global = !haveChart;
      size_t nameAt = 1;
      if (scope == "HOST" || scope == "GLOBAL") {
        global = true;
        nameAt = 2;
      } else if (scope == "CHART" || scope == "LOCAL") {
        if (!haveChart) return malformed();
        global = false;
        nameAt = 2;
      }
      const std::string_view name = arg(nameAt);
      const std::string_view value = arg(nameAt + 1);
      if (name.empty() || value.empty()) return malformed();
      events_.onVariable(global ? std::string_view{} : current_, name,
                         value);
      return;
    }

    case kChartDefinitionEnd:
      if (!haveChart) return malformed();
      events_.onChartDefinitionEnd(current_, parseInt(arg(1)), parseInt(arg(2)),
                                   parseInt(arg(3)));
      return;

    case kBegin:
      if (arg(1).empty()) {
        current_ = {};
        return malformed();
      }
      current_ = arg(1);
      ++stats_.sampleBlocks;
      events_.onSamples(current_, 0);
      return;

    case kBegin2:
      if (arg(1).empty()) {
        current_ = {};
        return malformed();
      }
      current_ = arg(1);
      ++stats_.sampleBlocks;
      events_.onSamples(current_, parseInt(arg(3)));
      return;

    case kRbegin:
      // `RBEGIN '' <start> <end> <now>` continues the reply for the chart already current.
      if (!arg(1).empty()) {
        current_ = arg(1);
      } else if (!haveChart) {
        return malformed();
      }
      ++stats_.sampleBlocks;
      return;

    case kRend:
      if (!haveChart) return malformed();
      events_.onReplicationEnd(current_, parseInt(arg(2)), parseInt(arg(3)));
      current_ = {};
      return;

    default:
      return;
  }
}

}  // namespace aclkd::stream_bridge
