#include "common/ini_file.h"

#include <gtest/gtest.h>

#include "unit/test_util.h"

namespace aclkd {
namespace {

TEST(IniFileTest, SectionsAndValues) {
  const IniDocument doc = parseIni("[global]\nurl = https://a\n[cloud]\nproxy=none\n", "x.conf");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_EQ(doc.entries.size(), 2u);
  EXPECT_EQ(doc.entries[0].section, "global");
  EXPECT_EQ(doc.entries[0].key, "url");
  EXPECT_EQ(doc.entries[0].value, "https://a");
  EXPECT_EQ(doc.entries[0].line, 2);
  EXPECT_EQ(doc.entries[1].section, "cloud");
  EXPECT_EQ(doc.entries[1].key, "proxy");
  EXPECT_EQ(doc.entries[1].value, "none");
  EXPECT_EQ(doc.entries[1].line, 4);
  EXPECT_EQ(doc.path, "x.conf");
}

TEST(IniFileTest, KeysWithSpacesAndEmptyValue) {
  const IniDocument doc = parseIni("[global]\nstate dir = /var/lib/x\nhostname =\n", "f");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_NE(doc.find("global", "state dir"), nullptr);
  EXPECT_EQ(doc.find("global", "state dir")->value, "/var/lib/x");
  ASSERT_NE(doc.find("global", "hostname"), nullptr);
  EXPECT_EQ(doc.find("global", "hostname")->value, "");
}

TEST(IniFileTest, IndentedLinesAsNetdataWritesThem) {
  const IniDocument doc =
      parseIni("  [global]\n\turl = https://app.netdata.cloud\n    \tclaimed_id = abc  \n", "f");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_NE(doc.find("global", "url"), nullptr);
  EXPECT_EQ(doc.find("global", "url")->value, "https://app.netdata.cloud");
  ASSERT_NE(doc.find("global", "claimed_id"), nullptr);
  EXPECT_EQ(doc.find("global", "claimed_id")->value, "abc");
}

TEST(IniFileTest, WholeLineComments) {
  const IniDocument doc =
      parseIni("# top\n[global]\n; semicolon comment\n\t# indented comment\nkey = v\n", "f");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_EQ(doc.entries.size(), 1u);
  EXPECT_EQ(doc.entries[0].key, "key");
  EXPECT_EQ(doc.entries[0].line, 5);
}

TEST(IniFileTest, SemicolonAndHashInsideValueStay) {
  const IniDocument doc = parseIni("[global]\ntoken = abc;def # not a comment\n", "f");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_NE(doc.find("global", "token"), nullptr);
  EXPECT_EQ(doc.find("global", "token")->value, "abc;def # not a comment");
}

TEST(IniFileTest, EqualsInsideValueStays) {
  const IniDocument doc = parseIni("[global]\nurl = https://h/p?a=b\n", "f");
  ASSERT_NE(doc.find("global", "url"), nullptr);
  EXPECT_EQ(doc.find("global", "url")->value, "https://h/p?a=b");
}

TEST(IniFileTest, LaterDuplicateWins) {
  const IniDocument doc = parseIni("[global]\nk = first\n[other]\nk = x\n[global]\nk = second\n",
                                   "f");
  EXPECT_TRUE(doc.errors.empty());
  const IniEntry* e = doc.find("global", "k");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->value, "second");
  EXPECT_EQ(e->line, 6);
  EXPECT_EQ(doc.find("global", "missing"), nullptr);
  EXPECT_EQ(doc.find("nosection", "k"), nullptr);
}

TEST(IniFileTest, ByteOrderMarkIsSkipped) {
  const IniDocument doc = parseIni("\xEF\xBB\xBF[global]\nk = v\n", "f");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_NE(doc.find("global", "k"), nullptr);
  EXPECT_EQ(doc.find("global", "k")->line, 2);
}

TEST(IniFileTest, CrLfLineEnds) {
  const IniDocument doc = parseIni("[global]\r\nk = v\r\n\r\nj = w\r\n", "f");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_NE(doc.find("global", "k"), nullptr);
  EXPECT_EQ(doc.find("global", "k")->value, "v");
  ASSERT_NE(doc.find("global", "j"), nullptr);
  EXPECT_EQ(doc.find("global", "j")->value, "w");
  EXPECT_EQ(doc.find("global", "j")->line, 4);
}

TEST(IniFileTest, LastLineWithoutNewline) {
  const IniDocument doc = parseIni("[global]\nk = v", "f");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_NE(doc.find("global", "k"), nullptr);
  EXPECT_EQ(doc.find("global", "k")->value, "v");
}

TEST(IniFileTest, VeryLongLine) {
  const std::string longValue(100000, 'x');
  const IniDocument doc = parseIni("[global]\nk = " + longValue + "\n", "f");
  ASSERT_NE(doc.find("global", "k"), nullptr);
  EXPECT_EQ(doc.find("global", "k")->value, longValue);
}

TEST(IniFileTest, MalformedSectionHeader) {
  const IniDocument doc = parseIni("[global\nk = v\n", "/etc/aclkd/aclkd.conf");
  ASSERT_EQ(doc.errors.size(), 2u);
  EXPECT_EQ(doc.errors[0].rfind("/etc/aclkd/aclkd.conf:1: ", 0), 0u) << doc.errors[0];
  EXPECT_NE(doc.errors[0].find("malformed section header"), std::string::npos);
  // No section was opened, so the option that follows is outside any section.
  EXPECT_EQ(doc.errors[1].rfind("/etc/aclkd/aclkd.conf:2: ", 0), 0u) << doc.errors[1];
  EXPECT_TRUE(doc.entries.empty());
}

TEST(IniFileTest, EmptySectionHeaderIsMalformed) {
  const IniDocument doc = parseIni("[]\n", "f");
  ASSERT_EQ(doc.errors.size(), 1u);
  EXPECT_EQ(doc.errors[0].rfind("f:1: ", 0), 0u);
  EXPECT_NE(doc.errors[0].find("malformed section header"), std::string::npos);
}

TEST(IniFileTest, MissingEquals) {
  const IniDocument doc = parseIni("[global]\nk = v\njust words\n", "a.conf");
  ASSERT_EQ(doc.errors.size(), 1u);
  EXPECT_EQ(doc.errors[0].rfind("a.conf:3: ", 0), 0u) << doc.errors[0];
  EXPECT_NE(doc.errors[0].find("just words"), std::string::npos);
  // The good line before it is kept.
  EXPECT_NE(doc.find("global", "k"), nullptr);
}

TEST(IniFileTest, OptionOutsideSection) {
  const IniDocument doc = parseIni("k = v\n[global]\nj = w\n", "a.conf");
  ASSERT_EQ(doc.errors.size(), 1u);
  EXPECT_EQ(doc.errors[0].rfind("a.conf:1: ", 0), 0u) << doc.errors[0];
  EXPECT_NE(doc.errors[0].find("outside any [section]"), std::string::npos);
  ASSERT_EQ(doc.entries.size(), 1u);
  EXPECT_EQ(doc.entries[0].key, "j");
}

TEST(IniFileTest, EmptyKey) {
  const IniDocument doc = parseIni("[global]\n  = value\n", "a.conf");
  ASSERT_EQ(doc.errors.size(), 1u);
  EXPECT_EQ(doc.errors[0].rfind("a.conf:2: ", 0), 0u) << doc.errors[0];
  EXPECT_NE(doc.errors[0].find("missing option name"), std::string::npos);
  EXPECT_TRUE(doc.entries.empty());
}

TEST(IniFileTest, ReadMissingFileIsNullopt) {
  test::TempDir dir;
  EXPECT_FALSE(readIniFile(dir.file("absent.conf")).has_value());
}

TEST(IniFileTest, ReadExistingFile) {
  test::TempDir dir;
  test::writeText(dir.file("a.conf"), "[global]\n\tk = v\n");
  const auto doc = readIniFile(dir.file("a.conf"));
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->path, dir.file("a.conf"));
  EXPECT_TRUE(doc->errors.empty());
  ASSERT_NE(doc->find("global", "k"), nullptr);
  EXPECT_EQ(doc->find("global", "k")->value, "v");
}

TEST(IniFileTest, ReadUnreadableFileIsAnError) {
  // A folder opens but cannot be read (EISDIR), which fails even for root, unlike chmod 000.
  test::TempDir dir;
  const auto doc = readIniFile(dir.path());
  ASSERT_TRUE(doc.has_value());
  ASSERT_EQ(doc->errors.size(), 1u);
  EXPECT_EQ(doc->errors[0].rfind(dir.path() + ": ", 0), 0u) << doc->errors[0];
  EXPECT_TRUE(doc->entries.empty());
}

TEST(IniFileTest, RenderThenParseRoundTrip) {
  const std::string text = renderIni({IniSection{"global", {{"url", "https://a"}, {"k", ""}}},
                                      IniSection{"cloud", {{"proxy", "none"}}}});
  const IniDocument doc = parseIni(text, "f");
  EXPECT_TRUE(doc.errors.empty());
  ASSERT_NE(doc.find("global", "url"), nullptr);
  EXPECT_EQ(doc.find("global", "url")->value, "https://a");
  ASSERT_NE(doc.find("global", "k"), nullptr);
  EXPECT_EQ(doc.find("global", "k")->value, "");
  ASSERT_NE(doc.find("cloud", "proxy"), nullptr);
}

}  // namespace
}  // namespace aclkd
