// Every decoder against blocks recorded from a real Netdata v2.10.4 child
// (tests/fixtures/netdata-2.10.4-<algorithm>.bin, made by tests/fixtures/record_v2_stream.py),
// against the compressors a child uses (round trips), and against corrupt, truncated and
// oversized blocks.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "stream_bridge/compression/decoder.h"
#include "stream_bridge/handshake.h"
#include "stream_bridge/stream_parser.h"
#include "unit/child_compressor.h"
#include "unit/fixtures.h"

namespace aclkd::stream_bridge {
namespace {

using testing_support::compressFramed;
using testing_support::frameHeader;
using testing_support::readFixture;

size_t countBlocks(std::string_view framed) {
  size_t n = 0;
  for (size_t at = 0; at + 4 <= framed.size(); ++n) {
    at += 4 + ((static_cast<unsigned char>(framed[at + 1]) & 0x7F) |
               ((static_cast<unsigned char>(framed[at + 2]) & 0x7F) << 7));
  }
  return n;
}

struct Decoded {
  std::string text;
  std::string error;
  uint64_t blocks = 0;
};

Decoded decodeAll(Compression c, std::string_view framed, size_t piece) {
  StreamDecoder decoder(c);
  Decoded d;
  for (size_t at = 0; at < framed.size(); at += piece) {
    if (!decoder.feed(framed.substr(at, piece), &d.text, &d.error)) break;
  }
  d.blocks = decoder.blocks();
  return d;
}

struct Count : StreamEvents {
  size_t charts = 0, dims = 0, samples = 0, hostLabels = 0, unknown = 0;
  void onChart(const ChartDefinition&) override { ++charts; }
  void onDimension(std::string_view, const DimensionDefinition&) override { ++dims; }
  void onSamples(std::string_view, int64_t) override { ++samples; }
  void onHostLabel(std::string_view, std::string_view, uint32_t) override { ++hostLabels; }
  void onUnknownKeyword(std::string_view) override { ++unknown; }
};

class RecordedStream : public ::testing::TestWithParam<Compression> {
 protected:
  std::string fixture() const {
    return readFixture("netdata-2.10.4-" + std::string(compressionName(GetParam())) + ".bin");
  }
};

TEST_P(RecordedStream, DecodesInAnyPiecesAndParses) {
  const std::string framed = fixture();
  ASSERT_GT(framed.size(), 40000u) << "fixture missing";
  const Decoded whole = decodeAll(GetParam(), framed, framed.size());
  ASSERT_EQ(whole.error, "");
  EXPECT_EQ(whole.blocks, countBlocks(framed));
  // What a v2.10.4 child sends first: its host variables, claim id and host labels, then charts.
  EXPECT_EQ(whole.text.rfind("VARIABLE HOST ", 0), 0u) << whole.text.substr(0, 80);
  EXPECT_GT(whole.text.size(), 3 * framed.size());  // every algorithm compresses this text > 3x
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}}) {
    const Decoded d = decodeAll(GetParam(), framed, piece);
    EXPECT_EQ(d.error, "") << piece;
    EXPECT_EQ(d.text, whole.text) << piece;
  }
  Count events;
  StreamParser parser(events);
  std::string error;
  ASSERT_TRUE(parser.feed(whole.text, &error)) << error;
  EXPECT_EQ(parser.stats().malformedLines, 0u);
  EXPECT_GE(events.hostLabels, 30u);
  EXPECT_GE(events.charts, 100u);
  EXPECT_GE(events.dims, 300u);
  EXPECT_GT(events.samples, 0u);
}

TEST_P(RecordedStream, ByteFlipsFailCleanlyOrDecodeSomething) {
  // A flipped byte inside a payload may still decode (no checksum per block) but must never
  // crash or exceed the bound; a flipped header byte is always an error.
  const std::string framed = fixture();
  ASSERT_FALSE(framed.empty());
  for (size_t at = 5; at < framed.size(); at += framed.size() / 97) {
    std::string bad = framed;
    bad[at] = static_cast<char>(bad[at] ^ 0x5A);
    const Decoded d = decodeAll(GetParam(), bad, 1000);
    EXPECT_LE(d.text.size(), (d.blocks + 1) * kMaxBlockOutput);
  }
  std::string bad = framed;
  bad[0] = 'x';
  EXPECT_EQ(decodeAll(GetParam(), bad, 100).error, "bad block header byte 0x78 at offset 0");
}

TEST_P(RecordedStream, TruncatedBlockYieldsAPrefixOrAnError) {
  const std::string framed = fixture();
  const size_t len = (static_cast<unsigned char>(framed[1]) & 0x7F) |
                     ((static_cast<unsigned char>(framed[2]) & 0x7F) << 7);
  ASSERT_GT(len, 10u);
  const Decoded whole = decodeAll(GetParam(), framed, framed.size());
  // The first block's header claims 10 bytes less: its payload ends early, the next header is
  // then read from inside the payload.
  const std::string cut = frameHeader(len - 10) + framed.substr(4);
  const Decoded d = decodeAll(GetParam(), cut, 512);
  EXPECT_FALSE(d.error.empty());
  EXPECT_LE(d.text.size(), kMaxBlockOutput);
}

INSTANTIATE_TEST_SUITE_P(Netdata2_10_4, RecordedStream,
                         ::testing::Values(Compression::kZstd, Compression::kLz4,
                                           Compression::kBrotli, Compression::kGzip),
                         [](const auto& info) { return std::string(compressionName(info.param)); });

class ChildCompressor : public ::testing::TestWithParam<Compression> {};

TEST_P(ChildCompressor, RoundTripsThe137Capture) {
  std::string text = readFixture("netdata-1.37-child-stream.txt");
  text = text.substr(*handshakeEnd(text));
  for (size_t chunk : {size_t{130}, size_t{4000}, size_t{16255}}) {
    const std::string framed = compressFramed(GetParam(), text, chunk);
    for (size_t piece : {size_t{3}, size_t{4096}, framed.size()}) {
      const Decoded d = decodeAll(GetParam(), framed, piece);
      ASSERT_EQ(d.error, "") << chunk << " " << piece;
      ASSERT_EQ(d.text, text) << chunk << " " << piece;
    }
  }
}

TEST_P(ChildCompressor, OversizedBlockIsRejected) {
  // 200 KiB of one letter in one block: a few hundred bytes, more than any child's block.
  const std::string framed = compressFramed(GetParam(), std::string(200 * 1024, 'a'), 200 * 1024);
  const Decoded d = decodeAll(GetParam(), framed, framed.size());
  const std::string name(compressionName(GetParam()));
  EXPECT_EQ(d.error.rfind(name + " block of " + std::to_string(framed.size() - 4) +
                              " bytes decodes to more than 65536 bytes",
                          0),
            0u)
      << d.error;
  // Nothing of the refused block reaches the text.
  EXPECT_EQ(d.text, "");
}

TEST_P(ChildCompressor, GarbageBlockIsCorrupt) {
  const std::string name(compressionName(GetParam()));
  const std::string garbage(10, static_cast<char>(0xFF));
  const Decoded d = decodeAll(GetParam(), frameHeader(garbage.size()) + garbage, 64);
  EXPECT_EQ(d.error.rfind(name + " block of 10 bytes does not decode: ", 0), 0u) << d.error;
  // Unusable afterwards, even for good input.
  StreamDecoder decoder(GetParam());
  std::string out, error;
  EXPECT_FALSE(decoder.feed(frameHeader(garbage.size()) + garbage, &out, &error));
  error.clear();
  EXPECT_FALSE(decoder.feed(compressFramed(GetParam(), "OK\n", 10), &out, &error));
  EXPECT_FALSE(error.empty());
}

// reset() (the fuzz targets' reuse): a new stream decodes as with a fresh decoder, after a good
// stream and after a refused one; the reused compressor's streams decode too.
TEST(StreamDecoder, AResetDecoderDecodesANewStream) {
  using testing_support::decodesBackTo;
  using testing_support::ReusedCompressor;
  const std::string text = "BEGIN system.cpu 1000000\nSET user = 10\nEND\n";
  for (const auto c : {Compression::kZstd, Compression::kLz4, Compression::kBrotli,
                       Compression::kGzip}) {
    StreamDecoder decoder(c);
    ReusedCompressor compressor(c);
    for (int stream = 0; stream < 3; ++stream) {
      EXPECT_TRUE(decodesBackTo(decoder, compressFramed(c, text, 7), 5, text)) << stream;
      EXPECT_TRUE(decodesBackTo(decoder, compressor.compressFramed(text, 9), 3, text)) << stream;
      std::string out, error;
      EXPECT_FALSE(decoder.feed(frameHeader(3) + "\xFF\xFF\xFF", &out, &error));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, ChildCompressor,
                         ::testing::Values(Compression::kZstd, Compression::kBrotli,
                                           Compression::kGzip),
                         [](const auto& info) { return std::string(compressionName(info.param)); });

TEST(StreamDecoder, NoneIsNoDecoder) {
  EXPECT_EQ(makeBlockDecoder(Compression::kNone), nullptr);
  StreamDecoder decoder(Compression::kNone);
  std::string out, error;
  EXPECT_FALSE(decoder.feed("x", &out, &error));
  EXPECT_EQ(error, "no decoder for compression 'none'");
}

}  // namespace
}  // namespace aclkd::stream_bridge
