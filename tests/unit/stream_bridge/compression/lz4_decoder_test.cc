#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <lz4.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "stream_bridge/compression/decoder.h"
#include "stream_bridge/handshake.h"
#include "stream_bridge/stream_parser.h"
#include "unit/child_compressor.h"
#include "unit/fixtures.h"

namespace aclkd::stream_bridge {
namespace {

using testing_support::fixtureStream;

std::string header(size_t len) { return testing_support::frameHeader(len); }

// What a 1.37 child does: one streaming compressor for the whole connection, one framed block per
// chunk. `text` must outlive the call because the compressor refers back into earlier chunks.
std::string compressFramed(const std::string& text, const std::vector<size_t>& chunkSizes) {
  std::unique_ptr<LZ4_stream_t, decltype(&LZ4_freeStream)> stream(LZ4_createStream(),
                                                                    &LZ4_freeStream);
  std::string out;
  std::vector<char> block(LZ4_compressBound(16384));
  size_t at = 0;
  size_t next = 0;
  while (at < text.size()) {
    const size_t len = std::min(chunkSizes[next++ % chunkSizes.size()], text.size() - at);
    const int n = LZ4_compress_fast_continue(stream.get(), text.data() + at, block.data(),
                                             static_cast<int>(len),
                                             static_cast<int>(block.size()), 1);
    EXPECT_GT(n, 0);
    EXPECT_LE(n, 0x3FFF);
    out += header(static_cast<size_t>(n));
    out.append(block.data(), static_cast<size_t>(n));
    at += len;
  }
  return out;
}

std::string decodeAll(std::string_view framed, size_t piece, std::string* error = nullptr) {
  StreamDecoder decoder(Compression::kLz4);
  std::string out;
  std::string err;
  for (size_t at = 0; at < framed.size(); at += piece) {
    if (!decoder.feed(framed.substr(at, piece), &out, &err)) {
      if (error) *error = err;
      return out;
    }
  }
  return out;
}

const std::string& smallText() {
  static const std::string text = [] {
    std::string t;
    for (int i = 0; i < 40; ++i) {
      t += "BEGIN \"system.cpu\" 1000000\nSET \"user\" = " + std::to_string(i * 37) +
           "\nSET \"system\" = " + std::to_string(i * 11) + "\nEND\n";
    }
    return t;
  }();
  return text;
}

TEST(Lz4Decoder, RoundTripWhole) {
  const std::string text = fixtureStream();
  ASSERT_EQ(text.size(), 276845u);
  const std::string framed = compressFramed(text, {1024});
  StreamDecoder decoder(Compression::kLz4);
  std::string out, error;
  ASSERT_TRUE(decoder.feed(framed, &out, &error)) << error;
  EXPECT_EQ(out, text);
  EXPECT_EQ(decoder.blocks(), (text.size() + 1023) / 1024);
}

TEST(Lz4Decoder, EverySplitPointOfTwoPieces) {
  // Chunks not aligned to lines, so lines also span blocks.
  const std::string framed = compressFramed(smallText(), {97, 300, 13, 700});
  ASSERT_GT(framed.size(), 100u);
  for (size_t cut = 0; cut <= framed.size(); ++cut) {
    StreamDecoder decoder(Compression::kLz4);
    std::string out, error;
    ASSERT_TRUE(decoder.feed(std::string_view(framed).substr(0, cut), &out, &error)) << cut;
    ASSERT_TRUE(decoder.feed(std::string_view(framed).substr(cut), &out, &error)) << cut;
    ASSERT_EQ(out, smallText()) << cut;
  }
}

TEST(Lz4Decoder, EveryPieceSize) {
  const std::string framed = compressFramed(smallText(), {64, 1000});
  for (size_t piece = 1; piece <= framed.size(); piece += (piece < 64 ? 1 : 37)) {
    std::string error;
    ASSERT_EQ(decodeAll(framed, piece, &error), smallText()) << piece << " " << error;
  }
}

TEST(Lz4Decoder, HistoryBeyondOneWindowAndLargeBlocks) {
  // Several passes over the fixture: blocks keep referring back up to 64 KiB while the decoder
  // recycles its history buffer many times, with small and maximal block sizes.
  const std::string fixture = fixtureStream();
  const std::string text = fixture + fixture + fixture;
  for (const std::vector<size_t>& chunks :
       {std::vector<size_t>{16384}, std::vector<size_t>{130, 40, 500}, std::vector<size_t>{7000}}) {
    const std::string framed = compressFramed(text, chunks);
    std::string error;
    EXPECT_EQ(decodeAll(framed, 4096, &error), text) << chunks[0] << " " << error;
    EXPECT_EQ(decodeAll(framed, 333, &error), text) << chunks[0] << " " << error;
  }
}

TEST(Lz4Decoder, LinesAcrossBlocksReachTheParser) {
  struct Count : StreamEvents {
    size_t charts = 0, dims = 0, unknown = 0;
    void onChart(const ChartDefinition&) override { ++charts; }
    void onDimension(std::string_view, const DimensionDefinition&) override { ++dims; }
    void onUnknownKeyword(std::string_view) override { ++unknown; }
  } events;
  const std::string text = fixtureStream();
  const std::string framed = compressFramed(text, {4000, 123, 9999});
  StreamDecoder decoder(Compression::kLz4);
  StreamParser parser(events);
  std::string decoded, error;
  for (size_t at = 0; at < framed.size(); at += 7) {
    decoded.clear();
    ASSERT_TRUE(decoder.feed(std::string_view(framed).substr(at, 7), &decoded, &error)) << error;
    ASSERT_TRUE(parser.feed(decoded, &error)) << error;
  }
  EXPECT_EQ(events.charts, 323u);
  EXPECT_EQ(events.dims, 1312u);
  EXPECT_EQ(events.unknown, 0u);
  EXPECT_EQ(parser.stats().lines, 5336u);
}

TEST(Lz4Decoder, EmptyInputAndEmptyBlock) {
  StreamDecoder decoder(Compression::kLz4);
  std::string out, error;
  EXPECT_TRUE(decoder.feed("", &out, &error));
  // LZ4's encoding of no bytes at all is a single zero token.
  EXPECT_TRUE(decoder.feed(header(1) + std::string(1, '\0'), &out, &error)) << error;
  EXPECT_EQ(out, "");
  EXPECT_EQ(decoder.blocks(), 1u);
}

TEST(Lz4Decoder, BadHeaderBytes) {
  const std::string good = compressFramed(smallText(), {200});
  struct Case {
    size_t at;
    char value;
    std::string error;
  };
  const size_t firstBlock = 4 + ((static_cast<unsigned char>(good[1]) & 0x7F) |
                                 ((static_cast<unsigned char>(good[2]) & 0x7F) << 7));
  const Case cases[] = {
      {0, 'A', "bad block header byte 0x41 at offset 0"},
      {1, 0x05, "bad block header byte 0x05 at offset 1"},
      {2, 0x00, "bad block header byte 0x00 at offset 2"},
      {3, '\r', "bad block header byte 0x0D at offset 3"},
      {firstBlock, 'z', "bad block header byte 0x7A at offset " + std::to_string(firstBlock)},
      {firstBlock + 3, 0x0B,
       "bad block header byte 0x0B at offset " + std::to_string(firstBlock + 3)},
  };
  for (const auto& c : cases) {
    std::string bad = good;
    bad[c.at] = c.value;
    for (size_t piece : {size_t{1}, size_t{5}, bad.size()}) {
      std::string error;
      decodeAll(bad, piece, &error);
      EXPECT_EQ(error, c.error) << c.at << " piece " << piece;
    }
  }
}

TEST(Lz4Decoder, CorruptBlocks) {
  const std::vector<std::string> payloads = {
      std::string(10, static_cast<char>(0xFF)),  // literal run longer than the block
      std::string("\x10" "a" "\x05\x00", 4),     // match before the start of the output
      std::string("\x1f" "a" "\x01", 3),         // match cut short
  };
  for (const auto& payload : payloads) {
    StreamDecoder decoder(Compression::kLz4);
    std::string out, error;
    EXPECT_FALSE(decoder.feed(header(payload.size()) + payload, &out, &error));
    EXPECT_THAT(error, ::testing::StartsWith("lz4 block of " + std::to_string(payload.size()) +
                                             " bytes does not decode"));
    // Unusable afterwards, even for good input.
    error.clear();
    EXPECT_FALSE(decoder.feed(compressFramed("OK\n", {10}), &out, &error));
    EXPECT_FALSE(error.empty());
  }
  StreamDecoder decoder(Compression::kLz4);
  std::string out, error;
  EXPECT_FALSE(decoder.feed(header(0), &out, &error));
  EXPECT_EQ(error, "lz4 block of 0 bytes at offset 0");
}

TEST(Lz4Decoder, TruncatedBlockIsRejected) {
  const std::string framed = compressFramed(smallText(), {4000});
  const size_t len = (static_cast<unsigned char>(framed[1]) & 0x7F) |
                     ((static_cast<unsigned char>(framed[2]) & 0x7F) << 7);
  const std::string cut = header(len - 3) + framed.substr(4, len - 3);
  std::string error;
  decodeAll(cut, cut.size(), &error);
  EXPECT_THAT(error, ::testing::StartsWith("lz4 block of " + std::to_string(len - 3) +
                                             " bytes does not decode"));
}

TEST(Lz4Decoder, OversizedOutputIsRejected) {
  // 200 KiB of one letter compresses into a few hundred bytes; more than any sender's block.
  const std::string text(200 * 1024, 'a');
  std::vector<char> block(LZ4_compressBound(static_cast<int>(text.size())));
  const int n = LZ4_compress_default(text.data(), block.data(), static_cast<int>(text.size()),
                                     static_cast<int>(block.size()));
  ASSERT_GT(n, 0);
  ASSERT_LE(n, 0x3FFF);
  std::string error;
  decodeAll(header(static_cast<size_t>(n)) + std::string(block.data(), static_cast<size_t>(n)), 64,
            &error);
  EXPECT_THAT(error, ::testing::StartsWith("lz4 block of " + std::to_string(n) +
                                             " bytes does not decode"));
}

TEST(Lz4Decoder, PlainTextIsNotMistakenForBlocks) {
  std::string error;
  decodeAll("CLAIMED_ID a b\n", 3, &error);
  EXPECT_EQ(error, "bad block header byte 0x43 at offset 0");
}

}  // namespace
}  // namespace aclkd::stream_bridge
