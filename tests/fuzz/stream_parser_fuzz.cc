// libFuzzer target: the line parser and the LZ4 block decoder. Besides "never crash", it checks
// the property the bridge relies on: how the bytes are cut into pieces never changes the events,
// and LZ4 framing is transparent.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream_bridge/compression/decoder.h"
#include "stream_bridge/stream_parser.h"
#include "unit/child_compressor.h"

using namespace aclkd::stream_bridge;

namespace {

// Folds every event and argument into one FNV-1a digest, so runs compare cheaply.
class Digest : public StreamEvents {
 public:
  uint64_t h = 1469598103934665603ull;
  uint64_t events = 0;

  void onClaimedId(std::string_view a, std::string_view b) override { mix(1, {a, b}); }
  void onHostLabel(std::string_view a, std::string_view b, uint32_t s) override {
    mix(2, {a, b}, s);
  }
  void onHostLabelsCommit() override { mix(3, {}); }
  void onChart(const ChartDefinition& c) override {
    mix(4, {c.id, c.name, c.title, c.units, c.family, c.context, c.chartType, c.options, c.plugin,
            c.module},
        static_cast<uint64_t>(c.priority) ^ static_cast<uint64_t>(c.updateEvery));
  }
  void onChartLabel(std::string_view c, std::string_view a, std::string_view b,
                    uint32_t s) override {
    mix(5, {c, a, b}, s);
  }
  void onChartLabelsCommit(std::string_view c) override { mix(6, {c}); }
  void onDimension(std::string_view c, const DimensionDefinition& d) override {
    mix(7, {c, d.id, d.name, d.algorithm, d.options},
        static_cast<uint64_t>(d.multiplier) * 31 + static_cast<uint64_t>(d.divisor));
  }
  void onFunction(std::string_view c, const FunctionDeclaration& f) override {
    mix(8, {c, f.name, f.help, f.tags}, f.access ^ static_cast<uint64_t>(f.timeoutSeconds));
  }
  // A result's body arrives in pieces that depend on how the bytes were cut: only the whole is
  // an event.
  void onFunctionResultBegin(std::string_view t, int code, std::string_view type,
                             int64_t expires) override {
    mix(16, {t, type}, static_cast<uint64_t>(code) ^ static_cast<uint64_t>(expires));
  }
  void onFunctionResultBody(std::string_view b) override { body.append(b); }
  void onFunctionResultEnd() override {
    mix(17, {body});
    body.clear();
  }
  void onFunctionDel(std::string_view c, std::string_view n) override { mix(18, {c, n}); }
  void onFunctionProgress(std::string_view t, int64_t d, int64_t a) override {
    mix(19, {t}, static_cast<uint64_t>(d) ^ static_cast<uint64_t>(a));
  }
  std::string body;
  void onVariable(std::string_view c, std::string_view n, std::string_view v) override {
    mix(9, {c, n, v});
  }
  void onChartDefinitionEnd(std::string_view c, int64_t a, int64_t b, int64_t d) override {
    mix(10, {c}, static_cast<uint64_t>(a) ^ (static_cast<uint64_t>(b) << 1) ^
                     (static_cast<uint64_t>(d) << 2));
  }
  void onSamples(std::string_view c, int64_t t) override { mix(11, {c}, static_cast<uint64_t>(t)); }
  void onReplicationEnd(std::string_view c, int64_t a, int64_t b) override {
    mix(12, {c}, static_cast<uint64_t>(a) ^ (static_cast<uint64_t>(b) << 1));
  }
  void onUnknownKeyword(std::string_view k) override { mix(13, {k}); }

 private:
  void byte(unsigned char b) {
    h ^= b;
    h *= 1099511628211ull;
  }
  void mix(unsigned char kind, std::initializer_list<std::string_view> parts, uint64_t n = 0) {
    ++events;
    byte(kind);
    for (const auto part : parts) {
      for (const char c : part) byte(static_cast<unsigned char>(c));
      byte(0xFF);
    }
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(n >> (8 * i)));
  }
};

struct Outcome {
  bool ok = true;
  uint64_t digest = 0;
  uint64_t events = 0;
  ParserStats stats;
};

// Feeds `text` in pieces whose sizes cycle through `sizes` (0 = everything at once).
Outcome parseInPieces(std::string_view text, const std::vector<size_t>& sizes, size_t maxLine) {
  Digest digest;
  StreamParser parser(digest, maxLine);
  Outcome out;
  std::string error;
  size_t next = 0;
  while (!text.empty() && out.ok) {
    size_t piece = sizes[next++ % sizes.size()];
    if (piece == 0 || piece > text.size()) piece = text.size();
    out.ok = parser.feed(text.substr(0, piece), &error);
    if (!out.ok && error.empty()) __builtin_trap();
    text.remove_prefix(piece);
  }
  out.digest = digest.h;
  out.events = digest.events;
  out.stats = parser.stats();
  return out;
}

void sameEvents(const Outcome& a, const Outcome& b) {
  if (a.ok != b.ok || a.digest != b.digest || a.events != b.events) __builtin_trap();
  if (a.ok && (a.stats.lines != b.stats.lines || a.stats.sampleLines != b.stats.sampleLines ||
               a.stats.sampleBlocks != b.stats.sampleBlocks ||
               a.stats.skippedBlockLines != b.stats.skippedBlockLines ||
               a.stats.malformedLines != b.stats.malformedLines ||
               a.stats.bytes != b.stats.bytes)) {
    __builtin_trap();
  }
}

// The decoder on hostile bytes: it may fail, but must not crash, and what it decodes goes on to
// the parser the way the bridge would pass it.
// One decoder for every input, reset between them (a fresh one allocates its 256 KiB history).
StreamDecoder& reusedDecoder() {
  static StreamDecoder decoder(Compression::kLz4);
  return decoder;
}

void decodeRaw(std::string_view input, size_t piece) {
  StreamDecoder& decoder = reusedDecoder();
  decoder.reset();
  Digest digest;
  StreamParser parser(digest);
  std::string out, error;
  while (!input.empty()) {
    const size_t n = std::min(piece, input.size());
    out.clear();
    if (!decoder.feed(input.substr(0, n), &out, &error)) {
      if (error.empty()) __builtin_trap();
      return;
    }
    if (!parser.feed(out, &error)) return;
    input.remove_prefix(n);
  }
}

// Compress the input as a 1.37 child would, then decode in odd pieces: the text must come back.
void roundTrip(std::string_view text, size_t chunk, size_t piece) {
  using namespace testing_support;
  static ReusedCompressor compressor(Compression::kLz4);
  if (!decodesBackTo(reusedDecoder(), compressor.compressFramed(text, chunk), piece, text)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Cut sizes come from the input's own bytes so that the fuzzer can steer them.
  const size_t a = size > 0 ? data[0] % 17 + 1 : 1;
  const size_t b = size > 1 ? data[size - 1] % 251 + 1 : 3;

  const Outcome whole = parseInPieces(input, {0}, StreamParser::kDefaultMaxLine);
  sameEvents(whole, parseInPieces(input, {a, b, 1}, StreamParser::kDefaultMaxLine));

  // A small line limit exercises the over-long line path in every position.
  const size_t smallLimit = 16 + b;
  sameEvents(parseInPieces(input, {0}, smallLimit), parseInPieces(input, {a}, smallLimit));

  decodeRaw(input, a * 3);
  if (size <= 64 * 1024) roundTrip(input, std::min<size_t>(16384, 8 * b + a), 2 * a + 1);
  return 0;
}
