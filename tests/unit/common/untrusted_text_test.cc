#include "common/untrusted_text.h"

#include <gtest/gtest.h>

namespace aclkd {
namespace {

TEST(UntrustedTextTest, NewlineCannotForgeALogLine) {
  const std::string forged = "evil\n2026-11-30 01:00:00.000 critical [1] forged";
  const std::string out = escapeUntrusted(forged);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out, "evil\\x0a2026-11-30 01:00:00.000 critical [1] forged");
}

TEST(UntrustedTextTest, ControlBytesBackslashAndBadUtf8AreEscaped) {
  EXPECT_EQ(escapeUntrusted(std::string("a\rb\x1b[31mc\x7f", 10)), "a\\x0db\\x1b[31mc\\x7f");
  EXPECT_EQ(escapeUntrusted("a\\x0a"), "a\\\\x0a");  // an escape cannot be faked
  EXPECT_EQ(escapeUntrusted(std::string("\0z", 2)), "\\x00z");
  EXPECT_EQ(escapeUntrusted("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(escapeUntrusted("\xc0\xaf"), "\\xc0\\xaf");          // overlong '/'
  EXPECT_EQ(escapeUntrusted("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

TEST(UntrustedTextTest, CleanTextIsUnchanged) {
  for (const std::string s : {"", "it-host", "host with spaces", "ünïcödé-主机-🙂", "a=b&c"}) {
    EXPECT_EQ(escapeUntrusted(s), s);
    EXPECT_TRUE(isCleanText(s)) << s;
  }
  EXPECT_FALSE(isCleanText("a\tb"));
}

TEST(UntrustedTextTest, Hostnames) {
  std::string e;
  EXPECT_TRUE(checkHostname("parent-1.example.com", &e));
  EXPECT_TRUE(checkHostname("ünïcödé", &e));
  EXPECT_FALSE(checkHostname("", &e));
  EXPECT_EQ(e, "the host name is empty");
  EXPECT_FALSE(checkHostname(std::string(256, 'a'), &e));
  EXPECT_EQ(e, "the host name has 256 bytes; at most 255");
  EXPECT_TRUE(checkHostname(std::string(255, 'a'), &e));
  e.clear();
  EXPECT_FALSE(checkHostname("evil\ncritical", &e));
  EXPECT_NE(e, "");
  EXPECT_EQ(e.find("evil"), std::string::npos);  // the raw value is not echoed
}

}  // namespace
}  // namespace aclkd
