#include "common/config_table.h"

#include <gtest/gtest.h>

namespace aclkd {
namespace {

using T = OptionType;

const std::vector<OptionSpec>& table() {
  static const std::vector<OptionSpec> rows = {
      {"t.conf", "global", "name", T::kString, "gw", "The name."},
      {"t.conf", "global", "dir", T::kPath, "/var/lib/t", "A folder."},
      {"t.conf", "global", "flag", T::kBool, "no", "A switch."},
      {"t.conf", "global", "count", T::kInt, "5", "A number.", {}, 1, 10},
      {"t.conf", "global", "level", T::kEnum, "info", "A level.", {"debug", "info", "error"}},
      {"t.conf", "cloud", "url", T::kUrl, "", "Where."},
      {"t.conf", "cloud", "proxy", T::kProxy, "env", "How."},
      {"other.conf", "global", "token", T::kString, "", "Not in t.conf."},
  };
  return rows;
}

ConfigValues load(const std::string& text, ConfigDiagnostics& diag) {
  return loadConfig(table(), "t.conf", parseIni(text, "/etc/t.conf"), diag);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ConfigTableTest, DefaultsWhenFileAbsent) {
  ConfigDiagnostics diag;
  const ConfigValues v = loadConfig(table(), "t.conf", std::nullopt, diag);
  EXPECT_TRUE(diag.errors.empty());
  EXPECT_TRUE(diag.warnings.empty());
  EXPECT_EQ(v.getString("global", "name"), "gw");
  EXPECT_EQ(v.getString("global", "dir"), "/var/lib/t");
  EXPECT_FALSE(v.getBool("global", "flag"));
  EXPECT_EQ(v.getInt("global", "count"), 5);
  EXPECT_EQ(v.getString("global", "level"), "info");
  EXPECT_EQ(v.getString("cloud", "url"), "");
  EXPECT_EQ(v.getString("cloud", "proxy"), "env");
  EXPECT_EQ(v.origin("global", "name"), "default");
  EXPECT_FALSE(v.isSet("global", "name"));
  // Rows of another file are not part of this one.
  EXPECT_EQ(v.origin("global", "token"), "");
}

TEST(ConfigTableTest, ValuesFromFileWithOrigin) {
  ConfigDiagnostics diag;
  const ConfigValues v = load(
      "[global]\n\tname = edge\n\tcount = 10\n\tlevel = debug\n[cloud]\n\tproxy = none\n", diag);
  EXPECT_TRUE(diag.errors.empty());
  EXPECT_TRUE(diag.warnings.empty());
  EXPECT_EQ(v.getString("global", "name"), "edge");
  EXPECT_EQ(v.origin("global", "name"), "/etc/t.conf:2");
  EXPECT_TRUE(v.isSet("global", "name"));
  EXPECT_EQ(v.getInt("global", "count"), 10);
  EXPECT_EQ(v.origin("global", "count"), "/etc/t.conf:3");
  EXPECT_EQ(v.getString("global", "level"), "debug");
  EXPECT_EQ(v.getString("cloud", "proxy"), "none");
  EXPECT_EQ(v.origin("cloud", "proxy"), "/etc/t.conf:6");
  // Untouched rows keep their default.
  EXPECT_EQ(v.origin("global", "dir"), "default");
}

TEST(ConfigTableTest, BooleanNormalisation) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"yes", "yes"}, {"YES", "yes"}, {"true", "yes"}, {"On", "yes"}, {"1", "yes"},
      {"no", "no"},   {"False", "no"}, {"off", "no"},  {"0", "no"},
  };
  for (const auto& [given, expected] : cases) {
    ConfigDiagnostics diag;
    const ConfigValues v = load("[global]\nflag = " + given + "\n", diag);
    EXPECT_TRUE(diag.errors.empty()) << given;
    EXPECT_EQ(v.getString("global", "flag"), expected) << given;
    EXPECT_EQ(v.getBool("global", "flag"), expected == "yes") << given;
  }
}

TEST(ConfigTableTest, BadBooleanIsAnError) {
  ConfigDiagnostics diag;
  const ConfigValues v = load("[global]\nflag = maybe\n", diag);
  ASSERT_EQ(diag.errors.size(), 1u);
  const std::string& e = diag.errors[0];
  EXPECT_EQ(e.rfind("/etc/t.conf:2: ", 0), 0u) << e;
  EXPECT_TRUE(contains(e, "[global] flag = 'maybe'")) << e;
  EXPECT_TRUE(contains(e, "yes, no, true, false, on, off, 1, 0")) << e;
  // The rejected value does not replace the default.
  EXPECT_EQ(v.getString("global", "flag"), "no");
  EXPECT_EQ(v.origin("global", "flag"), "default");
}

TEST(ConfigTableTest, IntegerRangeAndSyntax) {
  for (const std::string bad : {"0", "11", "-1", "abc", "5x", "", "99999999999999999999"}) {
    ConfigDiagnostics diag;
    const ConfigValues v = load("[global]\ncount = " + bad + "\n", diag);
    ASSERT_EQ(diag.errors.size(), 1u) << "'" << bad << "'";
    EXPECT_TRUE(contains(diag.errors[0], "/etc/t.conf:2: ")) << diag.errors[0];
    EXPECT_TRUE(contains(diag.errors[0], "an integer from 1 to 10")) << diag.errors[0];
    EXPECT_EQ(v.getInt("global", "count"), 5);
  }
  for (const std::string good : {"1", "10", "7"}) {
    ConfigDiagnostics diag;
    const ConfigValues v = load("[global]\ncount = " + good + "\n", diag);
    EXPECT_TRUE(diag.errors.empty()) << good;
    EXPECT_EQ(v.getInt("global", "count"), std::stoll(good));
  }
}

TEST(ConfigTableTest, EnumListsChoices) {
  ConfigDiagnostics diag;
  load("[global]\nlevel = verbose\n", diag);
  ASSERT_EQ(diag.errors.size(), 1u);
  EXPECT_TRUE(contains(diag.errors[0], "/etc/t.conf:2: ")) << diag.errors[0];
  EXPECT_TRUE(contains(diag.errors[0], "expected one of: debug, info, error")) << diag.errors[0];
}

TEST(ConfigTableTest, EnumIsCaseSensitive) {
  ConfigDiagnostics diag;
  load("[global]\nlevel = INFO\n", diag);
  EXPECT_EQ(diag.errors.size(), 1u);
}

TEST(ConfigTableTest, EmptyPathIsAnError) {
  ConfigDiagnostics diag;
  load("[global]\ndir =\n", diag);
  ASSERT_EQ(diag.errors.size(), 1u);
  EXPECT_TRUE(contains(diag.errors[0], "non-empty path")) << diag.errors[0];
}

TEST(ConfigTableTest, BadProxyIsAnError) {
  ConfigDiagnostics diag;
  const ConfigValues v = load("[cloud]\nproxy = https://proxy:3128\n", diag);
  ASSERT_EQ(diag.errors.size(), 1u);
  EXPECT_TRUE(contains(diag.errors[0], "/etc/t.conf:2: ")) << diag.errors[0];
  EXPECT_TRUE(contains(diag.errors[0], "'https' is not supported")) << diag.errors[0];
  EXPECT_TRUE(contains(diag.errors[0], "none, env, http://")) << diag.errors[0];
  EXPECT_EQ(v.getString("cloud", "proxy"), "env");
}

TEST(ConfigTableTest, ProxyWithCredentialsIsAccepted) {
  ConfigDiagnostics diag;
  const ConfigValues v = load("[cloud]\nproxy = http://user:pw@proxy:3128\n", diag);
  EXPECT_TRUE(diag.errors.empty());
  EXPECT_EQ(v.getString("cloud", "proxy"), "http://user:pw@proxy:3128");
}

TEST(ConfigTableTest, BadProxyDiagnosticHidesCredentials) {
  // Diagnostics go to stderr and the log; a proxy password must not.
  ConfigDiagnostics diag;
  load("[cloud]\nproxy = http://alice:s3cr3t@proxy:99999\n", diag);
  ASSERT_EQ(diag.errors.size(), 1u);
  EXPECT_FALSE(contains(diag.errors[0], "s3cr3t")) << diag.errors[0];
  EXPECT_FALSE(contains(diag.errors[0], "alice")) << diag.errors[0];
  EXPECT_TRUE(contains(diag.errors[0], "proxy:99999")) << diag.errors[0];
}

TEST(ConfigTableTest, BadUrlIsOnlyAWarning) {
  ConfigDiagnostics diag;
  const ConfigValues v = load("[cloud]\nurl = ftp://x\n", diag);
  EXPECT_TRUE(diag.errors.empty());
  ASSERT_EQ(diag.warnings.size(), 1u);
  EXPECT_TRUE(contains(diag.warnings[0], "/etc/t.conf:2: ")) << diag.warnings[0];
  EXPECT_TRUE(contains(diag.warnings[0], "unsupported scheme 'ftp'")) << diag.warnings[0];
  // A warning keeps the value: the link reports it as its status at run time.
  EXPECT_EQ(v.getString("cloud", "url"), "ftp://x");
  EXPECT_EQ(v.origin("cloud", "url"), "/etc/t.conf:2");
}

TEST(ConfigTableTest, GoodUrlNoDiagnostics) {
  ConfigDiagnostics diag;
  load("[cloud]\nurl = https://app.netdata.cloud\n", diag);
  EXPECT_TRUE(diag.errors.empty());
  EXPECT_TRUE(diag.warnings.empty());
}

TEST(ConfigTableTest, UnknownOptionWarning) {
  ConfigDiagnostics diag;
  load("[global]\nname = a\ncolour = red\n", diag);
  EXPECT_TRUE(diag.errors.empty());
  ASSERT_EQ(diag.warnings.size(), 1u);
  EXPECT_EQ(diag.warnings[0].rfind("/etc/t.conf:3: ", 0), 0u) << diag.warnings[0];
  EXPECT_TRUE(contains(diag.warnings[0], "unknown option 'colour' in section [global]"))
      << diag.warnings[0];
}

TEST(ConfigTableTest, UnknownSectionWarning) {
  ConfigDiagnostics diag;
  load("[global]\nname = a\n[web]\nport = 1\n", diag);
  EXPECT_TRUE(diag.errors.empty());
  ASSERT_EQ(diag.warnings.size(), 1u);
  EXPECT_EQ(diag.warnings[0].rfind("/etc/t.conf:4: ", 0), 0u) << diag.warnings[0];
  EXPECT_TRUE(contains(diag.warnings[0], "unknown section [web]")) << diag.warnings[0];
}

TEST(ConfigTableTest, OptionOfAnotherFileIsUnknownHere) {
  ConfigDiagnostics diag;
  load("[global]\ntoken = x\n", diag);
  ASSERT_EQ(diag.warnings.size(), 1u);
  EXPECT_TRUE(contains(diag.warnings[0], "unknown option 'token'")) << diag.warnings[0];
}

TEST(ConfigTableTest, SyntaxErrorsOfTheFileBecomeErrors) {
  ConfigDiagnostics diag;
  load("[global\n", diag);
  ASSERT_EQ(diag.errors.size(), 1u);
  EXPECT_EQ(diag.errors[0].rfind("/etc/t.conf:1: ", 0), 0u) << diag.errors[0];
}

TEST(ConfigTableTest, LaterDuplicateWins) {
  ConfigDiagnostics diag;
  const ConfigValues v = load("[global]\nname = a\nname = b\n", diag);
  EXPECT_EQ(v.getString("global", "name"), "b");
  EXPECT_EQ(v.origin("global", "name"), "/etc/t.conf:3");
}

TEST(ConfigTableTest, ValidateOptionDirectly) {
  bool warning = true;
  std::string problem;
  EXPECT_TRUE(validateOption(table()[0], "anything at all", &problem, &warning));
  EXPECT_FALSE(warning);
  EXPECT_FALSE(validateOption(table()[2], "nah", &problem, &warning));
  EXPECT_NE(problem, "");
  EXPECT_FALSE(warning);
  problem.clear();
  EXPECT_FALSE(validateOption(table()[5], "not a url", &problem, &warning));
  EXPECT_NE(problem, "");
  EXPECT_TRUE(warning);
  EXPECT_TRUE(validateOption(table()[5], "", &problem, &warning));
  EXPECT_FALSE(warning);
  EXPECT_TRUE(validateOption(table()[6], "socks5h://h:1080", &problem, &warning));
  EXPECT_TRUE(validateOption(table()[6], "", &problem, &warning));
}

TEST(ConfigTableTest, ParseBool) {
  EXPECT_EQ(parseBool("Yes"), true);
  EXPECT_EQ(parseBool("OFF"), false);
  EXPECT_EQ(parseBool(""), std::nullopt);
  EXPECT_EQ(parseBool("y"), std::nullopt);
  EXPECT_EQ(parseBool("2"), std::nullopt);
}

TEST(ConfigTableTest, MarkdownHasEveryOption) {
  const std::string md = renderOptionsMarkdown(table());
  for (const auto& spec : table()) {
    EXPECT_TRUE(contains(md, "| `" + std::string(spec.name) + "` |")) << spec.name;
    EXPECT_TRUE(contains(md, std::string(spec.help))) << spec.name;
    EXPECT_TRUE(contains(md, "## `" + std::string(spec.file) + "`")) << spec.file;
    EXPECT_TRUE(contains(md, "### `[" + std::string(spec.section) + "]`")) << spec.section;
  }
  EXPECT_TRUE(contains(md, "| `count` | integer | `5` | an integer from 1 to 10 | A number. |"));
  EXPECT_TRUE(contains(md, "| `url` | URL | (empty) |"));
  EXPECT_TRUE(contains(md, "debug, info, error"));
}

TEST(ConfigTableTest, HelpHasEveryOption) {
  const std::string help = renderOptionsHelp(table());
  for (const auto& spec : table()) {
    EXPECT_TRUE(contains(help, "[" + std::string(spec.section) + "] " + std::string(spec.name) +
                                   " = "))
        << spec.name;
    EXPECT_TRUE(contains(help, std::string(spec.help))) << spec.name;
    EXPECT_TRUE(contains(help, std::string(spec.file) + ":")) << spec.file;
  }
  EXPECT_TRUE(contains(help, "[global] name = gw\n"));
  EXPECT_TRUE(contains(help, "[cloud] url = (empty)\n"));
}

TEST(ConfigTableTest, ConfigValuesSetAndGet) {
  ConfigValues v;
  EXPECT_EQ(v.getString("a", "b"), "");
  EXPECT_EQ(v.getInt("a", "b"), 0);
  EXPECT_FALSE(v.getBool("a", "b"));
  EXPECT_FALSE(v.isSet("a", "b"));
  v.set("a", "b", "42", "x.conf:3");
  EXPECT_EQ(v.getInt("a", "b"), 42);
  EXPECT_EQ(v.origin("a", "b"), "x.conf:3");
  EXPECT_TRUE(v.isSet("a", "b"));
  // Section and name never bleed into each other.
  v.set("a b", "c", "1", "default");
  EXPECT_EQ(v.getString("a", "b c"), "");
}

}  // namespace
}  // namespace aclkd
