#include "stream_bridge/stream_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aclkd::stream_bridge {
namespace {

// Every event as one line of text, so that a whole run compares with a single EXPECT_EQ.
class Recorder : public StreamEvents {
 public:
  std::vector<std::string> log;

  void onClaimedId(std::string_view guid, std::string_view claim) override {
    add("claimed", {guid, claim});
  }
  void onHostLabel(std::string_view name, std::string_view value, uint32_t source) override {
    add("label", {name, value, std::to_string(source)});
  }
  void onHostLabelsCommit() override { add("labels-commit", {}); }
  void onChart(const ChartDefinition& c) override {
    add("chart", {c.id, c.name, c.title, c.units, c.family, c.context, c.chartType,
                  std::to_string(c.priority), std::to_string(c.updateEvery), c.options, c.plugin,
                  c.module});
  }
  void onChartLabel(std::string_view chart, std::string_view name, std::string_view value,
                    uint32_t source) override {
    add("clabel", {chart, name, value, std::to_string(source)});
  }
  void onChartLabelsCommit(std::string_view chart) override { add("clabel-commit", {chart}); }
  void onDimension(std::string_view chart, const DimensionDefinition& d) override {
    add("dim", {chart, d.id, d.name, d.algorithm, std::to_string(d.multiplier),
                std::to_string(d.divisor), d.options});
  }
  void onFunction(std::string_view chart, const FunctionDeclaration& f) override {
    add("function", {chart, f.name});
  }
  void onFunctionDel(std::string_view chart, std::string_view name) override {
    add("function-del", {chart, name});
  }
  void onFunctionResultBegin(std::string_view txn, int code, std::string_view type,
                             int64_t expires) override {
    add("result-begin", {txn, std::to_string(code), type, std::to_string(expires)});
  }
  void onFunctionResultBody(std::string_view bytes) override { body.append(bytes); }
  void onFunctionResultEnd() override { add("result-end", {body}); body.clear(); }
  void onFunctionProgress(std::string_view txn, int64_t done, int64_t all) override {
    add("progress", {txn, std::to_string(done), std::to_string(all)});
  }
  std::string body;
  void onVariable(std::string_view chart, std::string_view name, std::string_view value) override {
    add("variable", {chart, name, value});
  }
  void onChartDefinitionEnd(std::string_view chart, int64_t first, int64_t last,
                            int64_t now) override {
    add("cde", {chart, std::to_string(first), std::to_string(last), std::to_string(now)});
  }
  void onSamples(std::string_view chart, int64_t endTime) override {
    add("samples", {chart, std::to_string(endTime)});
  }
  void onReplicationEnd(std::string_view chart, int64_t first, int64_t last) override {
    add("rend", {chart, std::to_string(first), std::to_string(last)});
  }
  void onUnknownKeyword(std::string_view keyword) override { add("unknown", {keyword}); }

 private:
  void add(const char* what, std::initializer_list<std::string_view> parts) {
    std::string line = what;
    for (const auto part : parts) {
      line += '|';
      line += part;
    }
    log.push_back(std::move(line));
  }
};

using Log = std::vector<std::string>;

struct Parsed {
  Log log;
  ParserStats stats;
};

Parsed parse(std::string_view text, size_t maxLine = StreamParser::kDefaultMaxLine) {
  Recorder recorder;
  StreamParser parser(recorder, maxLine);
  std::string error;
  EXPECT_TRUE(parser.feed(text, &error)) << error;
  return {recorder.log, parser.stats()};
}

std::vector<std::string> words(std::string_view line) {
  std::array<std::string_view, kMaxWords> w;
  const size_t n = splitWords(line, w);
  return std::vector<std::string>(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(n));
}

using W = std::vector<std::string>;

TEST(StreamParserSplit, SeparatorsAndQuotes) {
  EXPECT_EQ(words(""), W{});
  EXPECT_EQ(words(" \t\r\n=\f\v"), W{});
  EXPECT_EQ(words("SET \"x\" = 5"), (W{"SET", "x", "5"}));
  EXPECT_EQ(words("LABEL \"k\" = 1 \"v\""), (W{"LABEL", "k", "1", "v"}));
  EXPECT_EQ(words("a=b==c"), (W{"a", "b", "c"}));
  EXPECT_EQ(words("\ta\t\tb\r"), (W{"a", "b"}));
  EXPECT_EQ(words("x \"a b=c\" 'd \"e' \"f'g\""), (W{"x", "a b=c", "d \"e", "f'g"}));
  EXPECT_EQ(words("CHART \"\" \"\" ''"), (W{"CHART", "", "", ""}));
  EXPECT_EQ(words("\"\""), W{""});
  // A closing quote ends the word and separates; a quote inside a bare word is literal.
  EXPECT_EQ(words("\"a\"b"), (W{"a", "b"}));
  EXPECT_EQ(words("\"a\"\"b\""), (W{"a", "b"}));
  EXPECT_EQ(words("ab\"c d\""), (W{"ab\"c", "d\""}));
  EXPECT_EQ(words("\"unterminated word"), W{"unterminated word"});
  EXPECT_EQ(words("trailing   "), W{"trailing"});
}

TEST(StreamParserSplit, BackslashIsKept) {
  EXPECT_EQ(words("a\\ b c"), (W{"a\\ b", "c"}));
  EXPECT_EQ(words("\"a\\\"b\" c"), (W{"a\\\"b", "c"}));
  EXPECT_EQ(words("a\\=b"), W{"a\\=b"});
  EXPECT_EQ(words("end\\"), W{"end\\"});
  EXPECT_EQ(words("\"q\\"), W{"q\\"});
}

TEST(StreamParserSplit, MaxWords) {
  std::string line;
  for (int i = 0; i < 40; ++i) line += "w" + std::to_string(i) + " ";
  const W got = words(line);
  ASSERT_EQ(got.size(), kMaxWords);
  EXPECT_EQ(got.front(), "w0");
  EXPECT_EQ(got.back(), "w29");
}

TEST(StreamParser, HostLevelCommands) {
  const Parsed r = parse(
      "CLAIMED_ID 7e5dc348-e657-11f1-8a35-02fc00000001 NULL\n"
      "CLAIMED_ID 'a' 'b'\n"
      "LABEL \"_os_name\" = 1 \"Debian GNU/Linux\"\n"
      "LABEL \"joined\" = 2 \"one\" two three\n"
      "LABEL \"empty\" = 8 \"\"\n"
      "OVERWRITE labels\n"
      "VARIABLE HOST active_processors = 2.0000000\n"
      "VARIABLE GLOBAL g = -1\n"
      "VARIABLE plain = 3\n"
      "FUNCTION GLOBAL \"systemd-list\" 10 \"help\" \"top\" \"public\" 100 1\n");
  EXPECT_EQ(r.log, (Log{
                       "claimed|7e5dc348-e657-11f1-8a35-02fc00000001|NULL",
                       "claimed|a|b",
                       "label|_os_name|Debian GNU/Linux|1",
                       "label|joined|one two three|2",
                       "label|empty||8",
                       "labels-commit",
                       "variable||active_processors|2.0000000",
                       "variable||g|-1",
                       "variable||plain|3",
                       "function||systemd-list",
                   }));
  EXPECT_EQ(r.stats.lines, 10u);
  EXPECT_EQ(r.stats.malformedLines, 0u);
}

TEST(StreamParser, ChartDefinition) {
  const Parsed r = parse(
      "CHART \"system.idlejitter\" \"\" \"CPU Idle Jitter\" \"microseconds lost/s\" "
      "\"idlejitter\" \"system.idlejitter\" \"area\" 800 1 \"   \" \"idlejitter.plugin\" \"\"\n"
      "CLABEL \"_collect_plugin\" \"idlejitter.plugin\" 536870913\n"
      "CLABEL_COMMIT\n"
      "DIMENSION \"min\" \"min\" \"absolute\" 1 1 \"  \"\n"
      "DIMENSION \"ignore\" \"ignore\" \"incremental\" -1 1000 \"hidden\"\n"
      "DIMENSION \"bare\"\n"
      "DIMENSION \"zero\" \"zero\" \"absolute\" 0 0\n"
      "FUNCTION \"processes\" 10 \"Detailed information\"\n"
      "VARIABLE CHART fdperc = 0.0000000\n"
      "VARIABLE LOCAL l = 1\n"
      "VARIABLE unscoped = 2\n"
      "CHART_DEFINITION_END 1795339889 1795339890 1795339891\n");
  EXPECT_EQ(r.log,
            (Log{
                "chart|system.idlejitter||CPU Idle Jitter|microseconds lost/s|idlejitter|"
                "system.idlejitter|area|800|1|   |idlejitter.plugin|",
                "clabel|system.idlejitter|_collect_plugin|idlejitter.plugin|536870913",
                "clabel-commit|system.idlejitter",
                "dim|system.idlejitter|min|min|absolute|1|1|  ",
                "dim|system.idlejitter|ignore|ignore|incremental|-1|1000|hidden",
                "dim|system.idlejitter|bare|||1|1|",
                "dim|system.idlejitter|zero|zero|absolute|1|1|",
                "function|system.idlejitter|processes",
                "variable|system.idlejitter|fdperc|0.0000000",
                "variable|system.idlejitter|l|1",
                "variable|system.idlejitter|unscoped|2",
                "cde|system.idlejitter|1795339889|1795339890|1795339891",
            }));
  EXPECT_EQ(r.stats.malformedLines, 0u);
}

TEST(StreamParser, ShortChartGetsDefaults) {
  const Parsed r = parse("CHART a.b\n");
  EXPECT_EQ(r.log, Log{"chart|a.b|||||||0|0|||"});
}

TEST(StreamParser, SlotArgumentsAreSkipped) {
  const Parsed r = parse(
      "CHART SLOT:7 'disk.sda' '' 'title' 'units' 'fam' 'disk.io' 'line' 2000 1 '' 'p' 'm'\n"
      "DIMENSION SLOT:2 'reads' 'reads' 'incremental' 512 1 ''\n"
      "BEGIN2 SLOT:7 'disk.sda' 1 1795339900 #\n"
      "SET2 SLOT:2 'reads' 0x2A 42 ''\n"
      "END2 1795339900 1795339900\n");
  EXPECT_EQ(r.log, (Log{
                       "chart|disk.sda||title|units|fam|disk.io|line|2000|1||p|m",
                       "dim|disk.sda|reads|reads|incremental|512|1|",
                       "samples|disk.sda|1795339900",
                   }));
  EXPECT_EQ(r.stats.sampleLines, 1u);
  EXPECT_EQ(r.stats.sampleBlocks, 1u);
}

TEST(StreamParser, SampleCommands) {
  const Parsed r = parse(
      "BEGIN \"system.cpu\" 1000000\n"
      "SET \"user\" = 5\n"
      "SET \"system\" = 6\n"
      "END\n"
      "BEGIN2 'system.cpu' 1 #Bq4o8c #\n"
      "SET2 'user' #A #A ''\n"
      "END2\n"
      "BEGIN2 'system.ram' 1 0x6B03A571 0x6B03A571\n"
      "END2\n"
      "RBEGIN \"system.cpu\"\n"
      "RSET \"user\" 5 \"\"\n"
      "RDSTATE \"user\" 1795339889251493 86 86.0000000 0.0000000\n"
      "RSSTATE 1795339889500000 1795339889000000\n"
      "RBEGIN '' 1795339800 1795339801 1795339889\n"
      "REND 1 1795339000 1795339889 true 0 0 1795339889\n");
  EXPECT_EQ(r.log, (Log{
                       "samples|system.cpu|0",
                       "samples|system.cpu|1793232668",
                       "samples|system.ram|1795401073",
                       "rend|system.cpu|1795339000|1795339889",
                   }));
  EXPECT_EQ(r.stats.sampleLines, 6u);
  EXPECT_EQ(r.stats.sampleBlocks, 5u);
  EXPECT_EQ(r.stats.malformedLines, 0u);
}

// The fast paths of BEGIN, SET and END give what the general path gives: quoting, escapes,
// tabs, SLOT: arguments and an empty chart name (malformed) included.
TEST(StreamParser, SampleFastPathsMatchTheGeneralPath) {
  const Parsed r = parse(
      "BEGIN \"a\\\"b.c\" 1\n"
      "SET\t\"x\" = 1\n"
      "  SET 'y' = 2\n"
      "SETTLE 1\n"
      "END\n"
      "BEGIN\tplain.chart\n"
      "SET \"z\"\n"
      "END extra\n"
      "BEGIN SLOT:4 'slot.chart' 1\n"
      "END\n"
      "BEGIN \"\" 1\n"
      "BEGIN\n"
      "ENDING\n");
  EXPECT_EQ(r.log, (Log{
                       "samples|a\\\"b.c|0",
                       "unknown|SETTLE",
                       "samples|plain.chart|0",
                       "samples|slot.chart|0",
                       "unknown|ENDING",
                   }));
  EXPECT_EQ(r.stats.sampleLines, 3u);
  EXPECT_EQ(r.stats.sampleBlocks, 3u);
  EXPECT_EQ(r.stats.malformedLines, 2u);
}

// BEGIN keeps the chart name as a view into the text fed; it must survive the end of feed().
TEST(StreamParser, CurrentChartOutlivesTheFeed) {
  Recorder recorder;
  StreamParser parser(recorder);
  std::string error;
  std::string first = "BEGIN \"sys.cpu\" 1\n";
  ASSERT_TRUE(parser.feed(first, &error));
  first.assign(first.size(), 'X');  // the caller reuses its buffer
  ASSERT_TRUE(parser.feed("RBEGIN ''\nREND 1 10 20\n", &error));
  EXPECT_EQ(recorder.log, (Log{"samples|sys.cpu|0", "rend|sys.cpu|10|20"}));
}

TEST(StreamParser, IgnoredKnownCommands) {
  const Parsed r = parse(
      "NODE_ID 'a' 'b' 'c'\n"
      "CONFIG go.d:nginx create accepted job /path type\n"
      "DYNCFG_ENABLE 'go.d'\n"
      "DYNCFG_REGISTER_MODULE 'go.d' 'nginx' job_array\n"
      "CHART a.b\n"
      "FLUSH\n"
      "DIMENSION x\n");
  EXPECT_EQ(r.log, (Log{"chart|a.b|||||||0|0|||"}));
  // FLUSH forgets the current chart.
  EXPECT_EQ(r.stats.malformedLines, 1u);
}

TEST(StreamParser, FunctionDeclarationsBothForms) {
  const Parsed r = parse(
      "FUNCTION GLOBAL \"netdata-streaming\" 10 \"Shows streaming\" \"top\" \"0x13\" 101 3\n"
      "CHART apps.cpu\n"
      "FUNCTION \"processes\" 10 \"Detailed information\"\n"
      "FUNCTION_DEL GLOBAL \"netdata-streaming\"\n"
      "FUNCTION_DEL \"processes\"\n"
      "FUNCTION_DEL 'x' extra\n"
      "FUNCTION_PROGRESS 'tx' 1 2\n"
      "FUNCTION_PROGRESS\n");
  EXPECT_EQ(r.log, (Log{"function||netdata-streaming", "chart|apps.cpu|||||||0|0|||",
                        "function|apps.cpu|processes", "function-del||netdata-streaming",
                        "function-del|apps.cpu|processes", "function-del|apps.cpu|x",
                        "progress|tx|1|2"}));
  EXPECT_EQ(r.stats.malformedLines, 1u);  // a progress report without its transaction
}

TEST(StreamParser, FunctionDeclarationFields) {
  struct Catch : StreamEvents {
    void onFunction(std::string_view chart, const FunctionDeclaration& f) override {
      chartId = chart;
      d = f;
      name = f.name;
      help = f.help;
      tags = f.tags;
    }
    std::string chartId, name, help, tags;
    FunctionDeclaration d;
  } c;
  StreamParser parser(c);
  std::string error;
  ASSERT_TRUE(parser.feed("FUNCTION GLOBAL \"config\" 120 \"Dynamic configuration\" \"config\" "
                          "\"0x0060\" 100 2\n", &error));
  EXPECT_EQ(c.name, "config");
  EXPECT_EQ(c.chartId, "");
  EXPECT_EQ(c.d.timeoutSeconds, 120);
  EXPECT_EQ(c.help, "Dynamic configuration");
  EXPECT_EQ(c.tags, "config");
  EXPECT_TRUE(c.d.accessKnown);
  EXPECT_EQ(c.d.access, 0x60u);
  EXPECT_EQ(c.d.priority, 100);
  EXPECT_EQ(c.d.version, 2u);
  // 1.37's chart-scoped form: three fields, no access.
  ASSERT_TRUE(parser.feed("CHART a.b\nFUNCTION \"processes\" -5 \"help\"\n", &error));
  EXPECT_EQ(c.chartId, "a.b");
  EXPECT_EQ(c.d.timeoutSeconds, 0);
  EXPECT_FALSE(c.d.accessKnown);
  // An old role name where the access bits go is not bits.
  ASSERT_TRUE(parser.feed("FUNCTION GLOBAL \"f\" 10 \"h\" \"t\" \"member\" 1 1\n", &error));
  EXPECT_FALSE(c.d.accessKnown);
}

TEST(StreamParser, AResultLineOfAnyLengthIsPassedOnInPieces) {
  Recorder recorder;
  StreamParser parser(recorder, 64);  // a small line limit
  std::string error;
  const std::string longLine(1000, 'x');
  // A line past the limit that starts like the closer is body too, however it is cut (the fuzzer
  // found the whole line taken for the end and the cut one for body).
  const std::string notTheEnd = "FUNCTION_RESULT_END " + std::string(100, 'z');
  const std::string text = "FUNCTION_RESULT_BEGIN t 200 application/json 0\n" + longLine + "\n" +
                           notTheEnd + "\n" + longLine + "\nFUNCTION_RESULT_END\nCLAIMED_ID g c\n";
  uint64_t lines = 0;
  for (size_t piece : {100000u, 1u, 7u, 63u, 64u, 65u, 500u, 5000u}) {
    Recorder r;
    StreamParser p(r, 64);
    for (size_t at = 0; at < text.size(); at += piece) {
      ASSERT_TRUE(p.feed(std::string_view(text).substr(at, piece), &error)) << error;
    }
    ASSERT_EQ(r.log, (Log{"result-begin|t|200|application/json|0",
                          "result-end|" + longLine + "\n" + notTheEnd + "\n" + longLine + "\n",
                          "claimed|g|c"}))
        << piece;
    if (lines == 0) lines = p.stats().lines;
    EXPECT_EQ(p.stats().lines, lines) << piece;
    EXPECT_EQ(p.stats().skippedBlockLines, 3u) << piece;
  }
  EXPECT_EQ(lines, 6u);
  // Outside a result the limit still holds.
  EXPECT_FALSE(parser.feed(longLine + "\n", &error));
}

TEST(StreamParser, MultiLineBlocksAreSkipped) {
  const Parsed r = parse(
      "FUNCTION_RESULT_BEGIN tx1 200 application/json 1795339889\n"
      "{\"CHART\": \"x.y\",\n"
      "CHART a.b\n"
      "  FUNCTION_RESULT_ENDING is not the end\n"
      "\n"
      "  FUNCTION_RESULT_END  \r\n"
      "JSON STREAM_PATH\n"
      "{\"path\": [\n"
      "LABEL \"x\" = 1 \"y\"\n"
      "JSON_PAYLOAD_END\n"
      "FUNCTION_PAYLOAD_BEGIN tx2 10 fn\n"
      "body\n"
      "FUNCTION_PAYLOAD_END\n"
      "CLAIMED_ID g c\n");
  // The result goes to the events (its body as the child wrote it); the others are skipped.
  EXPECT_EQ(r.log, (Log{"result-begin|tx1|200|application/json|1795339889",
                        "result-end|{\"CHART\": \"x.y\",\nCHART a.b\n  FUNCTION_RESULT_ENDING is "
                        "not the end\n\n",
                        "claimed|g|c"}));
  EXPECT_EQ(r.stats.skippedBlockLines, 7u);
  EXPECT_EQ(r.stats.lines, 14u);
}

TEST(StreamParser, UnknownKeywords) {
  const Parsed r = parse(
      "HOST_DEFINE x\n"
      "set \"x\" = 1\n"
      "SETX\n"
      "DYNCFG\n"
      "'LABEL' 'k' 1 'v'\n"
      "\"WEIRD KEY\" x\n"
      "SET\"x\" 1\n");
  EXPECT_EQ(r.log, (Log{"unknown|HOST_DEFINE", "unknown|set", "unknown|SETX", "unknown|DYNCFG",
                        "label|k|v|1", "unknown|WEIRD KEY", "unknown|SET\"x\""}));
}

TEST(StreamParser, MalformedLinesAreCountedNotFatal) {
  const Parsed r = parse(
      "CLAIMED_ID\n"
      "LABEL \"k\" = 1\n"
      "CLABEL \"a\" \"b\" 1\n"      // no current chart
      "CLABEL_COMMIT\n"
      "DIMENSION \"d\"\n"
      "FUNCTION \"f\" 10\n"
      "FUNCTION GLOBAL\n"
      "VARIABLE CHART v = 1\n"
      "VARIABLE HOST v\n"
      "CHART_DEFINITION_END 1 2 3\n"
      "CHART nodot\n"
      "CHART .x\n"
      "CHART x.\n"
      "BEGIN\n"
      "BEGIN2\n"
      "RBEGIN ''\n"
      "REND 1 2 3\n"
      "FUNCTION_RESULT_END\n"
      "JSON_PAYLOAD_END\n");
  EXPECT_EQ(r.log, Log{});
  EXPECT_EQ(r.stats.malformedLines, 19u);
}

TEST(StreamParser, BadChartClearsTheCurrentChart) {
  const Parsed r = parse("CHART a.b\nCHART broken\nDIMENSION d\nBEGIN a.b\nEND\nCLABEL_COMMIT\n");
  EXPECT_EQ(r.log, (Log{"chart|a.b|||||||0|0|||", "samples|a.b|0"}));
  EXPECT_EQ(r.stats.malformedLines, 3u);
}

TEST(StreamParser, NumbersSaturateAndTolerateGarbage) {
  const Parsed r = parse(
      "CHART a.b '' '' '' '' '' line 99999999999999999999999 -99999999999 '' '' ''\n"
      "LABEL k = 99999999999 v\n"
      "LABEL k = -5 v\n"
      "LABEL k = x v\n"
      "CHART_DEFINITION_END -0x10 #/////////////// 12abc\n");
  EXPECT_EQ(r.log, (Log{
                       "chart|a.b||||||line|9223372036854775807|-2147483648|||",
                       "label|k|v|4294967295",
                       "label|k|v|0",
                       "label|k|v|0",
                       "cde|a.b|-16|9223372036854775807|12",
                   }));
}

TEST(StreamParser, EmptyAndBlankLines) {
  const Parsed r = parse("\n\n   \r\n\t=\nCLAIMED_ID a b\r\n");
  EXPECT_EQ(r.log, Log{"claimed|a|b"});
  EXPECT_EQ(r.stats.lines, 5u);
  EXPECT_EQ(r.stats.bytes, 26u);
}

TEST(StreamParser, PartialLastLineWaitsForTheRest) {
  Recorder recorder;
  StreamParser parser(recorder);
  std::string error;
  ASSERT_TRUE(parser.feed("CLAIMED_ID a", &error));
  EXPECT_TRUE(recorder.log.empty());
  ASSERT_TRUE(parser.feed("bc def", &error));
  EXPECT_TRUE(recorder.log.empty());
  ASSERT_TRUE(parser.feed("\nOVERWRITE labels\nLAB", &error));
  EXPECT_EQ(recorder.log, (Log{"claimed|abc|def", "labels-commit"}));
  ASSERT_TRUE(parser.feed("", &error));
  ASSERT_TRUE(parser.feed("EL k = 1 v\n", &error));
  EXPECT_EQ(recorder.log.back(), "label|k|v|1");
  EXPECT_EQ(parser.stats().lines, 3u);
}

TEST(StreamParser, OverlongLineFails) {
  for (const size_t piece : {size_t{1}, size_t{10}, size_t{1000}}) {
    Recorder recorder;
    StreamParser parser(recorder, 64);
    std::string text = "CLAIMED_ID a b\n" + std::string(64, ' ') + "\n" + std::string(65, 'y');
    std::string error;
    bool ok = true;
    size_t at = 0;
    for (; at < text.size() && ok; at += piece) {
      ok = parser.feed(std::string_view(text).substr(at, piece), &error);
    }
    EXPECT_FALSE(ok) << piece;
    EXPECT_EQ(error, "line of 65 bytes exceeds the limit of 64 bytes") << piece;
    EXPECT_EQ(recorder.log, Log{"claimed|a|b"});
    // The stream is finished: later input is refused with the same message.
    error.clear();
    EXPECT_FALSE(parser.feed("CLAIMED_ID c d\n", &error));
    EXPECT_EQ(error, "line of 65 bytes exceeds the limit of 64 bytes");
  }
  Recorder recorder;
  StreamParser parser(recorder);
  std::string error;
  EXPECT_FALSE(parser.feed(std::string(1048576, 'z') + "\n", &error));
  EXPECT_EQ(error, "line of 1048576 bytes exceeds the limit of 15360 bytes");
  EXPECT_FALSE(parser.feed("x", nullptr));  // no error pointer is fine
}

TEST(StreamParser, LineOfExactlyTheLimitIsAccepted) {
  Recorder recorder;
  StreamParser parser(recorder, 20);
  std::string error;
  EXPECT_TRUE(parser.feed("CLAIMED_ID aaaa bbbb\n", &error)) << error;  // 20 bytes + newline
  EXPECT_TRUE(parser.feed("CLAIMED_ID aaaa ", &error));
  EXPECT_TRUE(parser.feed("cccc\n", &error)) << error;
  EXPECT_EQ(recorder.log, (Log{"claimed|aaaa|bbbb", "claimed|aaaa|cccc"}));
}

const char* const kSmallStream =
    "CLAIMED_ID 7e5dc348-e657-11f1-8a35-02fc00000001 NULL\n"
    "LABEL \"_cloud_provider_type\" = 1 \"unknown\"\n"
    "LABEL \"_system_cpu_freq\" = 1 \"2.596e+09\"\n"
    "OVERWRITE labels\n"
    "CHART \"system.idlejitter\" \"\" \"CPU Idle Jitter\" \"microseconds lost/s\" \"idlejitter\" "
    "\"system.idlejitter\" \"area\" 800 1 \"   \" \"idlejitter.plugin\" \"\"\n"
    "CLABEL \"_collect_plugin\" \"idlejitter.plugin\" 536870913\n"
    "CLABEL_COMMIT\n"
    "DIMENSION \"min\" \"min\" \"absolute\" 1 1 \"  \"\n"
    "FUNCTION \"processes\" 10 \"Detailed information\"\n"
    "VARIABLE CHART pidmax = 32768.0000000\n"
    "CHART_DEFINITION_END 1795339889 1795339889 1795339889\n"
    "RBEGIN \"system.idlejitter\"\n"
    "RDSTATE \"min\" 1795339889251493 86 86.0000000 0.0000000\n"
    "RSSTATE 1795339889500000 1795339889000000\n"
    "REND 1 0 1795339889 true 0 0 1795339889\n"
    "FUNCTION_RESULT_BEGIN 1 200 text/plain 0\n"
    "anything \"at all\n"
    "FUNCTION_RESULT_END\n"
    "BEGIN \"system.idlejitter\" 0\n"
    "SET \"min\" = 437\n"
    "END\n"
    "MYSTERY 1\n"
    "BEGIN2 'system.idlejitter' 1 0x10 #\n"
    "END2\n";

TEST(StreamParser, EverySplitPointGivesTheSameEvents) {
  const std::string text = kSmallStream;
  const Parsed whole = parse(text);
  ASSERT_EQ(whole.log.size(), 17u);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    Recorder recorder;
    StreamParser parser(recorder);
    std::string error;
    ASSERT_TRUE(parser.feed(std::string_view(text).substr(0, cut), &error));
    ASSERT_TRUE(parser.feed(std::string_view(text).substr(cut), &error));
    ASSERT_EQ(recorder.log, whole.log) << cut;
    ASSERT_EQ(parser.stats().lines, whole.stats.lines);
    ASSERT_EQ(parser.stats().bytes, text.size());
  }
  for (size_t piece = 1; piece < 64; ++piece) {
    Recorder recorder;
    StreamParser parser(recorder);
    std::string error;
    for (size_t at = 0; at < text.size(); at += piece) {
      ASSERT_TRUE(parser.feed(std::string_view(text).substr(at, piece), &error));
    }
    ASSERT_EQ(recorder.log, whole.log) << piece;
    ASSERT_EQ(parser.stats().sampleLines, whole.stats.sampleLines);
    ASSERT_EQ(parser.stats().skippedBlockLines, whole.stats.skippedBlockLines);
  }
}

}  // namespace
}  // namespace aclkd::stream_bridge
