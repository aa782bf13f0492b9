#include "stream_bridge/simple_pattern.h"

#include <gtest/gtest.h>

namespace aclkd::stream_bridge {
namespace {

struct Case {
  const char* pattern;
  const char* text;
  bool match;
};

// docs/protocol/streaming.md §11, checked against netdata 1.37's own pattern tester.
constexpr Case kCases[] = {
    {"*", "anything", true},
    {"*", "", false},  // a lone star does not match the empty string
    {"", "anything", false},
    {"foo", "foo", true},
    {"foo", "foobar", false},
    {"foo*", "foobar", true},
    {"*bar", "foobar", true},
    {"*oba*", "foobar", true},
    {"a*b*c", "aXbYc", true},
    {"a*b*c", "aXcYb", false},
    {"!foo* *", "foobar", false},
    {"* !foo*", "foobar", true},
    {"x !x", "x", true},
    {"!x x", "x", false},
    {"!x", "y", false},  // nothing positive matched
    {"a**b", "ab", false},
    {"a**b", "ax*b", true},
    {"system.*", "System.cpu", false},  // case-sensitive
    {"a|b", "a", false},                // | is not a separator
    {"a,b", "a", false},                // nor is ,
    {"a\\ b", "a b", true},             // backslash escapes and is removed
    {"\\!foo", "!foo", true},
    {"10.* 127.0.0.1", "127.0.0.1", true},
    {"10.* 127.0.0.1", "10.1.2.3", true},
    {"10.* 127.0.0.1", "192.168.1.1", false},
    {"  apps.*\tsystem.*\n", "system.load", true},
    {"!apps.* *", "apps.cpu", false},
    {"!apps.* *", "disk.io", true},
};

TEST(SimplePatternTest, Table) {
  for (const auto& c : kCases) {
    EXPECT_EQ(SimplePattern::parse(c.pattern).matches(c.text), c.match)
        << "pattern '" << c.pattern << "' text '" << c.text << "'";
  }
}

TEST(SimplePatternTest, EmptyAndSource) {
  EXPECT_TRUE(SimplePattern::parse("  ").empty());
  EXPECT_FALSE(SimplePattern::parse("a").empty());
  EXPECT_EQ(SimplePattern::parse("a b").source(), "a b");
}

}  // namespace
}  // namespace aclkd::stream_bridge
