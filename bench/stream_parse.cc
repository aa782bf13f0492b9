// Throughput of the stream bridge's parsing core on the Netdata 1.37 capture: the line parser
// alone, and the LZ4 block decoder on the same text compressed the way a 1.37 child does it.
// BM_DecodeAndParse: every compression, decode + parse, on the streams recorded from a real
// v2.10.4 child and on the 1.37 text compressed in 136-byte blocks as a v2 child would.

#include <benchmark/benchmark.h>
#include <lz4.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "stream_bridge/handshake.h"
#include "stream_bridge/compression/decoder.h"
#include "stream_bridge/stream_parser.h"
#include "unit/child_compressor.h"
#include "unit/fixtures.h"

namespace {

using namespace aclkd::stream_bridge;

const std::string& fixtureStream() {
  static const std::string stream = [] {
    std::string text = testing_support::fixtureStream();
    if (text.empty()) {
      std::fprintf(stderr, "fixture not found under %s\n", ACLKD_FIXTURES_DIR);
      std::exit(1);
    }
    return text;
  }();
  return stream;
}

// Touches every event so that the virtual calls and their arguments are not optimised away,
// roughly what a receiver that only counts would pay.
class Counting : public StreamEvents {
 public:
  uint64_t n = 0;
  void onClaimedId(std::string_view a, std::string_view) override { n += a.size(); }
  void onHostLabel(std::string_view a, std::string_view, uint32_t) override { n += a.size(); }
  void onHostLabelsCommit() override { ++n; }
  void onChart(const ChartDefinition& c) override { n += c.id.size() + c.context.size(); }
  void onChartLabel(std::string_view, std::string_view a, std::string_view, uint32_t) override {
    n += a.size();
  }
  void onChartLabelsCommit(std::string_view) override { ++n; }
  void onDimension(std::string_view, const DimensionDefinition& d) override { n += d.id.size(); }
  void onFunction(std::string_view, const FunctionDeclaration& f) override { n += f.name.size(); }
  void onVariable(std::string_view, std::string_view a, std::string_view) override {
    n += a.size();
  }
  void onChartDefinitionEnd(std::string_view, int64_t a, int64_t, int64_t) override {
    n += static_cast<uint64_t>(a);
  }
  void onSamples(std::string_view a, int64_t) override { n += a.size(); }
  void onReplicationEnd(std::string_view a, int64_t, int64_t) override { n += a.size(); }
  void onUnknownKeyword(std::string_view) override { ++n; }
};

// Parses `text` in pieces of `piece` bytes once per iteration; `count` picks what is summed.
template <typename Count>
void parseInPieces(benchmark::State& state, const std::string& text, size_t piece,
                   const char* counter, Count count) {
  uint64_t total = 0;
  std::string error;
  for (auto _ : state) {
    Counting events;
    StreamParser parser(events);
    for (size_t at = 0; at < text.size(); at += piece) {
      if (!parser.feed(std::string_view(text).substr(at, piece), &error)) {
        state.SkipWithError(error.c_str());
        return;
      }
    }
    total += count(parser.stats());
    benchmark::DoNotOptimize(events.n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters[counter] = benchmark::Counter(static_cast<double>(total),
                                               benchmark::Counter::kIsRate);
}

void BM_StreamParse(benchmark::State& state) {
  const std::string& stream = fixtureStream();
  const size_t piece = state.range(0) == 0 ? stream.size() : static_cast<size_t>(state.range(0));
  parseInPieces(state, stream, piece, "lines/s", [](const ParserStats& s) { return s.lines; });
}
// 0 = the whole capture in one piece; 4096 and 65536 are typical socket reads.
BENCHMARK(BM_StreamParse)->Arg(0)->Arg(4096)->Arg(65536)->Arg(512);

// The steady state of a stream: the capture's sample blocks (BEGIN…END, 114 blocks, 411 SET
// lines) repeated, in 64 KiB reads, the figure per sample the bridge's hot path starts from.
void BM_StreamParseSamples(benchmark::State& state) {
  std::string blocks;
  {
    const std::string& stream = fixtureStream();
    bool in = false;
    for (size_t at = 0; at < stream.size();) {
      const size_t nl = stream.find('\n', at);
      const std::string_view line(stream.data() + at, nl - at);
      if (line.substr(0, 6) == "BEGIN ") in = true;
      if (in) blocks.append(line).push_back('\n');
      if (line == "END") in = false;
      at = nl + 1;
    }
  }
  std::string loop;
  while (loop.size() < 4 * 1024 * 1024) loop += blocks;
  parseInPieces(state, loop, 65536, "samples/s",
                [](const ParserStats& s) { return s.sampleLines; });
}
BENCHMARK(BM_StreamParseSamples);

// One streaming compressor and framed blocks of `chunk` text bytes: 136 is the lab's mean block
// (40 compressed bytes at a ratio of 3.1), 16384 the largest a 1.37 child sends.
std::string compressFramed(const std::string& text, size_t chunk) {
  std::unique_ptr<LZ4_stream_t, decltype(&LZ4_freeStream)> lz4(LZ4_createStream(),
                                                                 &LZ4_freeStream);
  std::vector<char> block(static_cast<size_t>(LZ4_compressBound(static_cast<int>(chunk))));
  std::string out;
  for (size_t at = 0; at < text.size(); at += chunk) {
    const size_t len = std::min(chunk, text.size() - at);
    const int n = LZ4_compress_fast_continue(lz4.get(), text.data() + at, block.data(),
                                             static_cast<int>(len),
                                             static_cast<int>(block.size()), 1);
    if (n <= 0 || n > 0x3FFF) {
      std::fprintf(stderr, "compression failed\n");
      std::exit(1);
    }
    out.push_back(static_cast<char>(0xFA));
    out.push_back(static_cast<char>(0x80 | (n & 0x7F)));
    out.push_back(static_cast<char>(0x80 | ((n >> 7) & 0x7F)));
    out.push_back('\n');
    out.append(block.data(), static_cast<size_t>(n));
  }
  return out;
}

void BM_Lz4Decode(benchmark::State& state) {
  const std::string& text = fixtureStream();
  const std::string framed = compressFramed(text, static_cast<size_t>(state.range(0)));
  std::string out;
  out.reserve(text.size());
  std::string error;
  uint64_t blocks = 0;
  for (auto _ : state) {
    StreamDecoder decoder(Compression::kLz4);
    out.clear();
    for (size_t at = 0; at < framed.size(); at += 4096) {
      if (!decoder.feed(std::string_view(framed).substr(at, 4096), &out, &error)) {
        state.SkipWithError(error.c_str());
        return;
      }
    }
    blocks += decoder.blocks();
    benchmark::DoNotOptimize(out.data());
  }
  if (out != text) state.SkipWithError("decoded text differs from the fixture");
  // Bytes of decoded text, the figure comparable with the parser's.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["blocks/s"] = benchmark::Counter(static_cast<double>(blocks),
                                                  benchmark::Counter::kIsRate);
  state.counters["ratio"] = static_cast<double>(text.size()) / static_cast<double>(framed.size());
}
BENCHMARK(BM_Lz4Decode)->Arg(136)->Arg(16384);

// What the bridge does per compressed connection: a new decoder, 4 KiB reads, each decoded and
// its text parsed.
bool decodeAndParse(Compression c, std::string_view framed, StreamParser& parser, std::string* out,
                    std::string* error) {
  StreamDecoder decoder(c);
  for (size_t at = 0; at < framed.size(); at += 4096) {
    out->clear();
    if (!decoder.feed(framed.substr(at, 4096), out, error) || !parser.feed(*out, error)) {
      return false;
    }
  }
  return true;
}

void BM_Lz4DecodeAndParse(benchmark::State& state) {
  const std::string& text = fixtureStream();
  const std::string framed = compressFramed(text, 136);
  std::string out, error;
  uint64_t lines = 0;
  for (auto _ : state) {
    Counting events;
    StreamParser parser(events);
    if (!decodeAndParse(Compression::kLz4, framed, parser, &out, &error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    lines += parser.stats().lines;
    benchmark::DoNotOptimize(events.n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines),
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Lz4DecodeAndParse);

constexpr Compression kAlgorithms[] = {Compression::kZstd, Compression::kLz4,
                                       Compression::kBrotli, Compression::kGzip};

// Arg 0: the algorithm (index into kAlgorithms). Arg 1: 0 = the stream recorded from the real
// v2.10.4 child (tests/fixtures/netdata-2.10.4-<name>.bin, ~48 KiB of blocks), 1 = the 1.37
// capture compressed in 136-byte blocks (a typical block: one chart's samples).
void BM_DecodeAndParse(benchmark::State& state) {
  const Compression c = kAlgorithms[state.range(0)];
  std::string framed;
  if (state.range(1) == 0) {
    framed = testing_support::readFixture("netdata-2.10.4-" + std::string(compressionName(c)) +
                                          ".bin");
  } else {
    framed = testing_support::compressFramed(c, fixtureStream(), 136);
  }
  state.SetLabel(std::string(compressionName(c)) +
                 (state.range(1) == 0 ? " v2.10.4" : " 1.37/136"));
  std::string out, error;
  uint64_t text = 0, samples = 0;
  for (auto _ : state) {
    Counting events;
    StreamParser parser(events);
    if (!decodeAndParse(c, framed, parser, &out, &error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    text += parser.stats().bytes;
    samples += parser.stats().sampleLines;
    benchmark::DoNotOptimize(events.n);
  }
  // Bytes of decoded text per second, comparable with BM_Parse; samples are SET lines.
  state.SetBytesProcessed(static_cast<int64_t>(text));
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(samples),
                                                   benchmark::Counter::kIsRate);
  state.counters["wire MB/s"] = benchmark::Counter(
      static_cast<double>(framed.size() * state.iterations()) / 1e6, benchmark::Counter::kIsRate);
  state.counters["ratio"] = static_cast<double>(text) /
                            static_cast<double>(framed.size() * state.iterations());
}
BENCHMARK(BM_DecodeAndParse)->ArgsProduct({{0, 1, 2, 3}, {0, 1}});

}  // namespace

BENCHMARK_MAIN();
