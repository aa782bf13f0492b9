#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace aclkd::stream_bridge {

// docs/protocol/streaming.md §8.2, as the words of the line (quotes removed).
struct ChartDefinition {
  std::string_view id;  // "type.id"
  std::string_view name;
  std::string_view title;
  std::string_view units;
  std::string_view family;
  std::string_view context;
  std::string_view chartType;
  int64_t priority = 0;
  int updateEvery = 0;
  std::string_view options;
  std::string_view plugin;
  std::string_view module;
};

struct DimensionDefinition {
  std::string_view id;
  std::string_view name;
  std::string_view algorithm;
  int64_t multiplier = 1;
  int64_t divisor = 1;
  std::string_view options;
};

// FUNCTION [GLOBAL] "<name>" <timeout_s> "<help>" ["<tags>" "0x<access>" <priority> <version>]
// (docs/protocol/streaming.md §15.1): 1.37–1.40 children send the first three only.
struct FunctionDeclaration {
  std::string_view name;
  int timeoutSeconds = 0;  // 0 when absent or not positive: the receiver applies its default
  std::string_view help;
  std::string_view tags;
  uint32_t access = 0;      // HTTP access bits, from "0x…"
  bool accessKnown = false; // the line carried hex access bits (old agents send none or a role)
  int priority = 0;         // 0 when absent
  uint32_t version = 0;     // 0 when absent
};

// What the parser found, one call per command. Views point into the parser's input and are valid
// only during the call. Chart-scoped events carry the "current chart" (set by CHART, BEGIN,
// BEGIN2 and RBEGIN, docs/protocol/streaming.md §8). Default implementations ignore the event.
class StreamEvents {
 public:
  virtual ~StreamEvents() = default;
  virtual void onClaimedId(std::string_view /*machineGuid*/, std::string_view /*claimId*/) {}
  // LABEL: buffered by the receiver until OVERWRITE labels (onHostLabelsCommit).
  virtual void onHostLabel(std::string_view /*name*/, std::string_view /*value*/,
                           uint32_t /*source*/) {}
  virtual void onHostLabelsCommit() {}
  virtual void onChart(const ChartDefinition& /*chart*/) {}
  // CLABEL, buffered until CLABEL_COMMIT (onChartLabelsCommit) for `chartId`.
  virtual void onChartLabel(std::string_view /*chartId*/, std::string_view /*name*/,
                            std::string_view /*value*/, uint32_t /*source*/) {}
  virtual void onChartLabelsCommit(std::string_view /*chartId*/) {}
  virtual void onDimension(std::string_view /*chartId*/, const DimensionDefinition& /*dim*/) {}
  // FUNCTION (chart-scoped, chartId set) or FUNCTION GLOBAL (chartId empty).
  virtual void onFunction(std::string_view /*chartId*/, const FunctionDeclaration& /*f*/) {}
  // FUNCTION_DEL [GLOBAL] "<name>".
  virtual void onFunctionDel(std::string_view /*chartId*/, std::string_view /*name*/) {}
  // A call's answer: FUNCTION_RESULT_BEGIN "<txn>" <code> "<content-type>" <expires>, then its
  // body in pieces of any size (a line longer than the line limit is passed on in parts, never
  // buffered whole), then FUNCTION_RESULT_END. The body is every piece joined, less the one
  // newline that ends its last line (the child writes "\nFUNCTION_RESULT_END\n" after it).
  virtual void onFunctionResultBegin(std::string_view /*txn*/, int /*code*/,
                                     std::string_view /*contentType*/, int64_t /*expires*/) {}
  virtual void onFunctionResultBody(std::string_view /*bytes*/) {}
  virtual void onFunctionResultEnd() {}
  // FUNCTION_PROGRESS '<txn>' <done> <all>: the child is still working on a call.
  virtual void onFunctionProgress(std::string_view /*txn*/, int64_t /*done*/, int64_t /*all*/) {}
  // VARIABLE HOST|GLOBAL name = value (chartId empty) or VARIABLE [CHART|LOCAL] name = value.
  virtual void onVariable(std::string_view /*chartId*/, std::string_view /*name*/,
                          std::string_view /*value*/) {}
  // CHART_DEFINITION_END first_entry last_entry child_now (only with REPLICATION).
  virtual void onChartDefinitionEnd(std::string_view /*chartId*/, int64_t /*firstEntry*/,
                                    int64_t /*lastEntry*/, int64_t /*childNow*/) {}
  // One sample block (BEGIN…END or BEGIN2…END2) for a chart. `endTime` is BEGIN2's end_time,
  // 0 for BEGIN (the receiver uses its own clock). Samples themselves are dropped.
  virtual void onSamples(std::string_view /*chartId*/, int64_t /*endTime*/) {}
  // REND update_every first_entry last_entry …: what the child holds for the chart.
  virtual void onReplicationEnd(std::string_view /*chartId*/, int64_t /*firstEntry*/,
                                int64_t /*lastEntry*/) {}
  // A keyword the parser does not know (logged once per keyword by the receiver, then ignored: a
  // tolerant receiver rather than Netdata's "drop the connection", docs/protocol/streaming.md §7).
  virtual void onUnknownKeyword(std::string_view /*keyword*/) {}
  // The payload of a `JSON STREAM_PATH` … `JSON_PAYLOAD_END` block (PATHS), its lines joined
  // with '\n'; other JSON blocks are skipped unseen.
  virtual void onStreamPath(std::string_view /*json*/) {}
};

struct ParserStats {
  uint64_t bytes = 0;
  uint64_t lines = 0;
  uint64_t sampleLines = 0;  // SET, SET2, RSET, RDSTATE, RSSTATE lines, dropped
  uint64_t sampleBlocks = 0; // BEGIN, BEGIN2, RBEGIN
  uint64_t skippedBlockLines = 0;  // lines inside FUNCTION_RESULT_BEGIN / JSON blocks
  uint64_t functionResults = 0;    // FUNCTION_RESULT_BEGIN blocks
  uint64_t malformedLines = 0;     // known keyword, unusable arguments: ignored, counted
};

// Netdata's word splitter (§7): separators are space, tab, CR, LF, '=', form feed and vertical
// tab outside quotes; a word may be quoted with " or ' (separators inside are literal; `""` is
// an empty word); a backslash makes the next character non-special and stays in the word. At most
// `words.size()` words; extra words are dropped. Returns the number of words.
inline constexpr size_t kMaxWords = 30;
size_t splitWords(std::string_view line, std::array<std::string_view, kMaxWords>& words);

// The incremental parser of one stream: text in any pieces, complete lines parsed in place (only a
// line cut by the end of a piece is copied, to join it with the next piece). Commands of 1.37 and
// v2 (docs/protocol/streaming.md §8): CLAIMED_ID, LABEL, OVERWRITE, CHART, CLABEL, CLABEL_COMMIT,
// DIMENSION, FUNCTION, VARIABLE, CHART_DEFINITION_END, BEGIN/SET/END, BEGIN2/SET2/END2,
// RBEGIN/RSET/RDSTATE/RSSTATE/REND, NODE_ID, FLUSH, FUNCTION_DEL, FUNCTION_PROGRESS, CONFIG,
// DYNCFG_* and the multi-line blocks FUNCTION_RESULT_BEGIN…FUNCTION_RESULT_END (a call's answer,
// passed on) and JSON…JSON_PAYLOAD_END (skipped as a unit, but for STREAM_PATH). `SLOT:<n>` first
// arguments are skipped.
class StreamParser {
 public:
  static constexpr size_t kDefaultMaxLine = 15360;  // Netdata 1.37's limit

  explicit StreamParser(StreamEvents& events, size_t maxLineBytes = kDefaultMaxLine);

  // False with `error` ("line of 1048576 bytes exceeds the limit of 15360 bytes") when a line is
  // longer than the limit; the stream must then be closed. Never throws.
  bool feed(std::string_view text, std::string* error);

  const ParserStats& stats() const { return stats_; }

 private:
  using Words = std::array<std::string_view, kMaxWords>;

  bool feedLines(std::string_view text, std::string* error);
  // Calls onLine(start, newline) for each complete line; the start of the unterminated rest, or
  // nullptr when onLine returned false.
  template <typename OnLine>
  static const char* forEachLine(const char* p, const char* end, OnLine&& onLine);
  void parseLine(std::string_view line);
  void dispatch(int command, const Words& w, size_t n);
  bool tooLong(size_t bytes, std::string* error);
  // A result body line longer than the line limit: what has come of it so far is passed on
  // (the rest of the line follows in the next feed()).
  void passLongResultLine(std::string_view piece, bool lineEnds);

  StreamEvents& events_;
  const size_t maxLine_;
  std::string partial_;      // an incomplete last line
  // The current chart: a view into the text being fed (BEGIN costs no copy), moved into
  // currentStore_ when a feed() returns.
  std::string_view current_;
  std::string currentStore_;
  std::string_view blockEnd_;  // closer (a literal) of the multi-line block being skipped
  bool collectPath_ = false;   // the block is a JSON STREAM_PATH: its body goes to path_
  bool inResult_ = false;      // the block is a FUNCTION_RESULT: its body goes to the events
  bool resultMidLine_ = false; // inside a result body line whose start was passed on
  std::string path_;
  std::string scratch_;        // a LABEL value joined from several words
  std::string failure_;        // set by an over-long line; every later feed() repeats it
  Words words_;                // a member so that a line does not pay for initialising 30 views
  ParserStats stats_;
};

}  // namespace aclkd::stream_bridge
