#include "stream_bridge/compression/algorithm.h"

#include <gtest/gtest.h>

#include "stream_bridge/handshake.h"

namespace aclkd::stream_bridge {
namespace {

// What a v2.10.4 child offers (lab: `ver=201129976`), and a 1.37 child (`ver=16376`).
constexpr uint64_t kV2Child = 201129976;
constexpr uint64_t kV137Child = 16376;

std::vector<Compression> order(std::string_view text) {
  std::string error;
  auto o = parseCompressionOrder(text, &error);
  EXPECT_TRUE(o) << error;
  return o ? *o : std::vector<Compression>{};
}

TEST(Compression, NamesAndBits) {
  EXPECT_EQ(compressionName(Compression::kNone), "none");
  EXPECT_EQ(compressionFromName("ZSTD"), Compression::kZstd);
  EXPECT_EQ(compressionFromName("none"), std::nullopt);
  EXPECT_EQ(compressionCapability(Compression::kLz4), 1u << 10);
  EXPECT_EQ(compressionCapability(Compression::kZstd), 1u << 19);
  EXPECT_EQ(compressionCapability(Compression::kGzip), 1u << 20);
  EXPECT_EQ(compressionCapability(Compression::kBrotli), 1u << 21);
  // The v2 child offers all four.
  EXPECT_EQ(kV2Child & cap::kCompressions, cap::kCompressions);
}

TEST(Compression, OrderCompletesAndRefusesUnknownNames) {
  EXPECT_EQ(order(""), order(kDefaultCompressionOrder));
  EXPECT_EQ(order(" gzip\tgzip  lz4 "), (std::vector<Compression>{Compression::kGzip,
                                                                    Compression::kLz4,
                                                                    Compression::kZstd,
                                                                    Compression::kBrotli}));
  std::string error;
  EXPECT_FALSE(parseCompressionOrder("zstd,lz4", &error));
  EXPECT_EQ(error, "unknown compression algorithm 'zstd,lz4' (known: zstd lz4 brotli gzip)");
  EXPECT_FALSE(parseCompressionOrder("none", &error));
}

TEST(Compression, ParentPicksOneByItsOrder) {
  const uint64_t negotiated = negotiate(kV2Child, ~uint64_t{0}, true);
  EXPECT_EQ(negotiatedCompression(selectCompression(negotiated, order(kDefaultCompressionOrder))),
            Compression::kZstd);
  for (const auto c : {Compression::kZstd, Compression::kLz4, Compression::kBrotli,
                       Compression::kGzip}) {
    const uint64_t picked = selectCompression(negotiated, order(compressionName(c)));
    EXPECT_EQ(picked & cap::kCompressions, compressionCapability(c));
    EXPECT_EQ(picked & ~cap::kCompressions, negotiated & ~cap::kCompressions);
    EXPECT_EQ(negotiatedCompression(picked), c);
  }
  // A 1.37 child offers LZ4 only: it gets LZ4 whatever comes first ("all participate").
  const uint64_t old = negotiate(kV137Child, ~uint64_t{0}, true);
  EXPECT_EQ(negotiatedCompression(selectCompression(old, order("gzip"))), Compression::kLz4);
  // Disabled: no bit survives, and the child streams plain text.
  EXPECT_EQ(negotiate(kV2Child, ~uint64_t{0}, false) & cap::kCompressions, 0u);
  EXPECT_EQ(selectCompression(negotiated, {}) & cap::kCompressions, 0u);
  EXPECT_EQ(negotiatedCompression(0), Compression::kNone);
}

}  // namespace
}  // namespace aclkd::stream_bridge
