#include "store/context_set.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "unit/context_records.h"
#include "unit/test_util.h"

namespace aclkd::store {
namespace {

using aclkd::test::contextRecord;

void expectSame(const std::vector<ContextRecord>& a, const std::vector<ContextRecord>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].version, b[i].version);
    EXPECT_EQ(a[i].firstEntry, b[i].firstEntry);
    EXPECT_EQ(a[i].lastEntry, b[i].lastEntry);
    EXPECT_EQ(a[i].deleted, b[i].deleted);
    EXPECT_EQ(a[i].title, b[i].title);
    EXPECT_EQ(a[i].priority, b[i].priority);
    EXPECT_EQ(a[i].chartType, b[i].chartType);
    EXPECT_EQ(a[i].units, b[i].units);
    EXPECT_EQ(a[i].family, b[i].family);
  }
}

// A value around a body of our own making: the version byte and a frame with its content size.
std::string valueOf(const std::string& body, bool contentSize = true) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, contentSize ? 1 : 0);
  std::string frame(ZSTD_compressBound(body.size()), '\0');
  ZSTD_inBuffer in{body.data(), body.size(), 0};
  ZSTD_outBuffer out{frame.data(), frame.size(), 0};
  // Streamed without a pledged size, so that the content size is written only when asked for.
  if (contentSize) ZSTD_CCtx_setPledgedSrcSize(c, body.size());
  const size_t left = ZSTD_compressStream2(c, &out, &in, ZSTD_e_end);
  ZSTD_freeCCtx(c);
  EXPECT_EQ(left, 0u);
  return "\1" + frame.substr(0, out.pos);
}

std::string refusal(const std::string& value) {
  std::vector<ContextRecord> out{contextRecord("left.over", 1)};
  std::string error;
  EXPECT_FALSE(decodeContextSet(value, &out, &error));
  EXPECT_TRUE(out.empty()) << "a refused value leaves nothing behind";
  EXPECT_FALSE(error.empty());
  return error;
}

TEST(ContextSet, EveryFieldGoesThroughBitForBit) {
  std::vector<ContextRecord> in{contextRecord("system.cpu", 7), contextRecord("", UINT64_MAX)};
  in[1].deleted = true;
  in[1].firstEntry = UINT64_MAX;
  in[1].lastEntry = 1;
  in[1].title = std::string("nul \0 and newline \n inside", 27);
  in[1].priority = 0;
  in[1].chartType = "";
  std::vector<ContextRecord> out;
  std::string error;
  ASSERT_TRUE(decodeContextSet(encodeContextSet(in), &out, &error)) << error;
  expectSame(in, out);
}

TEST(ContextSet, AnEmptySetIsAValueToo) {
  std::vector<ContextRecord> out{contextRecord("x", 1)};
  std::string error;
  ASSERT_TRUE(decodeContextSet(encodeContextSet({}), &out, &error)) << error;
  EXPECT_TRUE(out.empty());
}

TEST(ContextSet, ContextsOfNothingButZerosAndEmptyStringsRoundTrip) {
  // 10 bytes each, the least a context takes: the count check must let them through (the fuzz
  // target found it asking for 14).
  std::vector<ContextRecord> in(1000);
  std::vector<ContextRecord> out;
  std::string error;
  ASSERT_TRUE(decodeContextSet(encodeContextSet(in), &out, &error)) << error;
  expectSame(in, out);
}

TEST(ContextSet, TheEncoderStartsOverAfterFinish) {
  ContextSetEncoder e;
  e.add(contextRecord("a", 1));
  e.add(contextRecord("b", 2));
  EXPECT_EQ(e.count(), 2u);
  (void)e.finish();
  EXPECT_EQ(e.count(), 0u);
  e.add(contextRecord("c", 3));
  std::vector<ContextRecord> out;
  std::string error;
  ASSERT_TRUE(decodeContextSet(e.finish(), &out, &error)) << error;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, "c");
}

TEST(ContextSet, AFleetsContextsCompressToAFractionOfTheirText) {
  std::vector<ContextRecord> in;
  size_t text = 0;
  for (int i = 0; i < 312; ++i) {
    in.push_back(contextRecord("apps.cpu_" + std::to_string(i), static_cast<uint64_t>(i) * 977));
    text += in.back().id.size() + in.back().title.size() + in.back().chartType.size() +
            in.back().units.size() + in.back().family.size();
  }
  EXPECT_LT(encodeContextSet(in).size(), text / 4);
}

TEST(ContextSet, AValueWrittenByTheZstdToolDecodes) {
  // tests/fuzz/seeds/context_set/value-three: the fuzz target's mode byte, then a value whose
  // frame the `zstd` command-line tool made (with a checksum): the format is zstd's, not ours.
  std::ifstream f(test::sourcePath("tests/fuzz/seeds/context_set/value-three"), std::ios::binary);
  const std::string seed((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(seed.size(), 2u);
  std::vector<ContextRecord> out;
  std::string error;
  ASSERT_TRUE(decodeContextSet(seed.substr(1), &out, &error)) << error;
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, "system.cpu");
  EXPECT_EQ(out[1].version, UINT64_MAX);
  EXPECT_TRUE(out[1].deleted);
  EXPECT_EQ(out[2].units, "MiB");
}

TEST(ContextSet, DamagedValuesAreRefusedWithAReason) {
  const std::string good =
      encodeContextSet({contextRecord("system.cpu", 1), contextRecord("system.load", 2)});
  EXPECT_EQ(refusal(""), "an empty value");
  EXPECT_EQ(refusal("\2" + good.substr(1)), "an unknown encoding version");
  EXPECT_EQ(refusal(good.substr(0, good.size() - 3)), "not one whole zstd frame");
  EXPECT_EQ(refusal(good + good.substr(1)), "not one whole zstd frame");
  EXPECT_EQ(refusal(valueOf("\1", false)), "a zstd frame without its content size");
  // The bodies: one context is id "a", version 1, first 2, last 3, not deleted, title "t",
  // priority 4, type "l", units "u", family "f".
  const std::string one = std::string("\1a\1\2\3\0\1t\4\1l\1u\1f", 15);
  std::vector<ContextRecord> out;
  std::string error;
  ASSERT_TRUE(decodeContextSet(valueOf("\1" + one), &out, &error)) << error;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].family, "f");
  EXPECT_EQ(refusal(valueOf("\2" + one)), "a damaged context count");
  EXPECT_EQ(refusal(valueOf("\1" + one.substr(0, 13) + "\5f")), "context 1 of 1 is damaged");
  EXPECT_EQ(refusal(valueOf("\1" + one + "xy")), "2 bytes after the last context");
  std::string flag = one;
  flag[5] = 2;  // deleted is 0 or 1
  EXPECT_EQ(refusal(valueOf("\1" + flag)), "context 1 of 1 is damaged");
  std::string wide = "\1\1a" + std::string(9, '\xff') + "\x02" + one.substr(3);
  EXPECT_EQ(refusal(valueOf(wide)), "context 1 of 1 is damaged");  // a version past 64 bits
}

TEST(ContextSet, AValuePastTheLimitIsRefusedBeforeItIsExpanded) {
  const std::string big(kMaxContextSetBytes + 1, '\0');
  const std::string error = refusal(valueOf(big));
  EXPECT_NE(error.find("at most"), std::string::npos) << error;
}

}  // namespace
}  // namespace aclkd::store
