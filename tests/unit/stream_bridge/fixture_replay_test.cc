#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "stream_bridge/handshake.h"
#include "stream_bridge/stream_parser.h"
#include "unit/fixtures.h"

namespace aclkd::stream_bridge {
namespace {

using testing_support::readFixture;

// The stream part of the capture: everything after the handshake's blank line.
std::string fixtureStream() {
  std::string stream = testing_support::fixtureStream();
  EXPECT_FALSE(stream.empty());
  return stream;
}

class Counter : public StreamEvents {
 public:
  size_t claimedIds = 0, labels = 0, labelCommits = 0, charts = 0, dimensions = 0,
         chartLabels = 0, chartLabelCommits = 0, functions = 0, variables = 0,
         definitionEnds = 0, samples = 0, replicationEnds = 0, unknown = 0;
  std::set<std::string> chartIds, contexts, functionNames, variableNames;
  std::set<std::pair<std::string, std::string>> dimensionPairs, chartLabelPairs;
  std::set<std::string> labelNames;
  bool commitWithoutChart = false;

  void onClaimedId(std::string_view, std::string_view) override { ++claimedIds; }
  void onHostLabel(std::string_view name, std::string_view, uint32_t) override {
    ++labels;
    labelNames.emplace(name);
  }
  void onHostLabelsCommit() override { ++labelCommits; }
  void onChart(const ChartDefinition& c) override {
    ++charts;
    chartIds.emplace(c.id);
    contexts.emplace(c.context);
  }
  void onChartLabel(std::string_view chart, std::string_view name, std::string_view,
                    uint32_t) override {
    ++chartLabels;
    chartLabelPairs.emplace(chart, name);
  }
  void onChartLabelsCommit(std::string_view chart) override {
    ++chartLabelCommits;
    if (chart.empty()) commitWithoutChart = true;
  }
  void onDimension(std::string_view chart, const DimensionDefinition& d) override {
    ++dimensions;
    dimensionPairs.emplace(chart, d.id);
  }
  void onFunction(std::string_view, const FunctionDeclaration& f) override {
    ++functions;
    functionNames.emplace(f.name);
  }
  void onVariable(std::string_view, std::string_view name, std::string_view) override {
    ++variables;
    variableNames.emplace(name);
  }
  void onChartDefinitionEnd(std::string_view, int64_t, int64_t, int64_t) override {
    ++definitionEnds;
  }
  void onSamples(std::string_view, int64_t) override { ++samples; }
  void onReplicationEnd(std::string_view, int64_t, int64_t) override { ++replicationEnds; }
  void onUnknownKeyword(std::string_view) override { ++unknown; }
};

// The docs/protocol/streaming.md §13.2 counts of the keywords that have no event of their own,
// counted independently of the parser so that its aggregate statistics can be checked against them.
TEST(FixtureReplay, FixtureHoldsTheDocumentedKeywordCounts) {
  const std::string stream = fixtureStream();
  ASSERT_EQ(stream.size(), 276845u);
  std::map<std::string, size_t> keywords;
  std::array<std::string_view, kMaxWords> words;
  size_t lines = 0;
  for (size_t at = 0; at < stream.size();) {
    const size_t nl = stream.find('\n', at);
    ASSERT_NE(nl, std::string::npos);
    if (splitWords(std::string_view(stream).substr(at, nl - at), words) > 0) {
      ++keywords[std::string(words[0])];
    }
    ++lines;
    at = nl + 1;
  }
  EXPECT_EQ(lines, 5336u);
  const std::map<std::string, size_t> expected = {
      {"CLAIMED_ID", 1},   {"LABEL", 21},          {"OVERWRITE", 1},  {"CHART", 323},
      {"DIMENSION", 1312}, {"CLABEL", 747},        {"CLABEL_COMMIT", 323},
      {"FUNCTION", 54},    {"VARIABLE", 12},       {"CHART_DEFINITION_END", 323},
      {"RBEGIN", 235},     {"RSSTATE", 235},       {"REND", 235},     {"RDSTATE", 875},
      {"BEGIN", 114},      {"END", 114},           {"SET", 411},
  };
  EXPECT_EQ(keywords, expected);
}

void replayInPieces(size_t piece) {
  const std::string stream = fixtureStream();
  ASSERT_EQ(stream.size(), 276845u);

  Counter c;
  StreamParser parser(c);
  std::string error;
  for (size_t at = 0; at < stream.size(); at += piece) {
    ASSERT_TRUE(parser.feed(std::string_view(stream).substr(at, piece), &error)) << error;
  }

  EXPECT_EQ(c.claimedIds, 1u);
  EXPECT_EQ(c.labels, 21u);
  EXPECT_EQ(c.labelNames.size(), 21u);
  EXPECT_EQ(c.labelCommits, 1u);
  EXPECT_EQ(c.charts, 323u);
  EXPECT_EQ(c.chartIds.size(), 323u);
  EXPECT_EQ(c.contexts.size(), 311u);
  EXPECT_EQ(c.dimensions, 1312u);
  EXPECT_EQ(c.dimensionPairs.size(), 1312u);
  EXPECT_EQ(c.chartLabels, 747u);
  EXPECT_EQ(c.chartLabelPairs.size(), 747u);
  EXPECT_EQ(c.chartLabelCommits, 323u);
  EXPECT_FALSE(c.commitWithoutChart);
  EXPECT_EQ(c.functions, 54u);
  EXPECT_EQ(c.functionNames, std::set<std::string>{"processes"});
  EXPECT_EQ(c.variables, 12u);
  EXPECT_EQ(c.variableNames.size(), 12u);
  EXPECT_EQ(c.definitionEnds, 323u);
  EXPECT_EQ(c.replicationEnds, 235u);  // REND
  EXPECT_EQ(c.samples, 114u);          // BEGIN
  EXPECT_EQ(c.unknown, 0u);

  const ParserStats& s = parser.stats();
  EXPECT_EQ(s.bytes, 276845u);
  EXPECT_EQ(s.lines, 5336u);
  EXPECT_EQ(s.sampleBlocks, 114u + 235u);          // BEGIN + RBEGIN
  EXPECT_EQ(s.sampleLines, 411u + 875u + 235u);    // SET + RDSTATE + RSSTATE
  EXPECT_EQ(s.skippedBlockLines, 0u);
  EXPECT_EQ(s.malformedLines, 0u);
}

TEST(FixtureReplay, PiecesOf1Byte) { replayInPieces(1); }
TEST(FixtureReplay, PiecesOf7Bytes) { replayInPieces(7); }
TEST(FixtureReplay, PiecesOf4096Bytes) { replayInPieces(4096); }
TEST(FixtureReplay, Whole) { replayInPieces(276845); }

}  // namespace
}  // namespace aclkd::stream_bridge
