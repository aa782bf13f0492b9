#include "claim/claim_inputs.h"

#include <gtest/gtest.h>
#include <map>

#include "common/config_table.h"
#include "unit/test_util.h"

namespace aclkd::claim {
namespace {

using Rooms = std::vector<std::string>;

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

// claim.conf as the daemon hands it over: defaults where the file says nothing.
ClaimConf claimConf(const std::map<std::string, std::string>& given) {
  ClaimConf c;
  c.url = "https://app.netdata.cloud";
  c.proxy = "env";
  for (const auto& [key, value] : given) {
    if (key == "url") c.url = value;
    if (key == "token") c.token = value;
    if (key == "rooms") c.rooms = value;
    if (key == "proxy") c.proxy = value;
    if (key == "insecure") c.insecure = value == "yes";
  }
  return c;
}

TEST(ClaimInputsTest, ParseRooms) {
  EXPECT_EQ(parseRooms(" a, ,b ,"), (Rooms{"a", "b"}));
  EXPECT_EQ(parseRooms(""), Rooms{});
  EXPECT_EQ(parseRooms(","), Rooms{});
  EXPECT_EQ(parseRooms("   "), Rooms{});
  EXPECT_EQ(parseRooms("room1"), Rooms{"room1"});
  EXPECT_EQ(parseRooms("r1,r2,r3"), (Rooms{"r1", "r2", "r3"}));
  EXPECT_EQ(parseRooms(",,x,,"), Rooms{"x"});
  // Inner spaces are part of the item; only the ends are trimmed.
  EXPECT_EQ(parseRooms(" a b , c "), (Rooms{"a b", "c"}));
}

TEST(ClaimInputsTest, FromConfNeedsToken) {
  EXPECT_FALSE(claimInputsFromConf(claimConf({})).has_value());
  EXPECT_FALSE(claimInputsFromConf(claimConf({{"token", ""}})).has_value());
}

TEST(ClaimInputsTest, FromConfNeedsUrl) {
  EXPECT_FALSE(claimInputsFromConf(claimConf({{"token", "t"}, {"url", ""}})).has_value());
}

TEST(ClaimInputsTest, FromConfDefaults) {
  const auto in = claimInputsFromConf(claimConf({{"token", "tok"}}));
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->source, "claim.conf");
  EXPECT_EQ(in->token, "tok");
  EXPECT_EQ(in->url, "https://app.netdata.cloud");
  EXPECT_EQ(in->rooms, Rooms{});
  EXPECT_EQ(in->proxy, "env");
  EXPECT_FALSE(in->insecure);
}

TEST(ClaimInputsTest, FromConfAllValues) {
  const auto in = claimInputsFromConf(claimConf({{"token", "tok"},
                                                 {"url", "https://cloud.example"},
                                                 {"rooms", "r1, r2"},
                                                 {"proxy", "http://p:3128"},
                                                 {"insecure", "yes"}}));
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->url, "https://cloud.example");
  EXPECT_EQ(in->rooms, (Rooms{"r1", "r2"}));
  EXPECT_EQ(in->proxy, "http://p:3128");
  EXPECT_TRUE(in->insecure);
}

TEST(ClaimInputsTest, FromEnvironmentNeedsToken) {
  EXPECT_FALSE(claimInputsFromEnvironment(fakeEnv({}), "https://fallback").has_value());
  EXPECT_FALSE(claimInputsFromEnvironment(fakeEnv({{"NETDATA_CLAIM_TOKEN", ""},
                                                   {"NETDATA_CLAIM_URL", "https://x"}}),
                                          "https://fallback")
                   .has_value());
}

TEST(ClaimInputsTest, FromEnvironmentDefaults) {
  const auto in =
      claimInputsFromEnvironment(fakeEnv({{"NETDATA_CLAIM_TOKEN", "tok"}}), "https://fallback");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->source, "environment");
  EXPECT_EQ(in->token, "tok");
  EXPECT_EQ(in->url, "https://fallback");
  EXPECT_EQ(in->rooms, Rooms{});
  EXPECT_EQ(in->proxy, "env");
  EXPECT_FALSE(in->insecure);
}

TEST(ClaimInputsTest, FromEnvironmentEmptyUrlAndProxyFallBack) {
  const auto in = claimInputsFromEnvironment(fakeEnv({{"NETDATA_CLAIM_TOKEN", "tok"},
                                                      {"NETDATA_CLAIM_URL", ""},
                                                      {"NETDATA_CLAIM_PROXY", ""}}),
                                             "https://fallback");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->url, "https://fallback");
  EXPECT_EQ(in->proxy, "env");
}

TEST(ClaimInputsTest, FromEnvironmentAllValues) {
  const auto in =
      claimInputsFromEnvironment(fakeEnv({{"NETDATA_CLAIM_TOKEN", "tok"},
                                          {"NETDATA_CLAIM_URL", "https://cloud.example"},
                                          {"NETDATA_CLAIM_ROOMS", "r1,r2"},
                                          {"NETDATA_CLAIM_PROXY", "socks5h://s:1080"},
                                          {"NETDATA_EXTRA_CLAIM_OPTS", "-insecure"}}),
                                 "https://fallback");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->url, "https://cloud.example");
  EXPECT_EQ(in->rooms, (Rooms{"r1", "r2"}));
  EXPECT_EQ(in->proxy, "socks5h://s:1080");
  EXPECT_TRUE(in->insecure);
}

TEST(ClaimInputsTest, InsecureOnlyAsTheExactWord) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"-insecure", true},
      {"  -verbose\t-insecure\n", true},
      {"-noreload -insecure -verbose", true},
      {"", false},
      {"--insecure", false},
      {"-insecurex", false},
      {"x-insecure", false},
      {"-insecure=yes", false},
      {"-INSECURE", false},
      {"-verbose", false},
  };
  for (const auto& [opts, expected] : cases) {
    const auto in = claimInputsFromEnvironment(
        fakeEnv({{"NETDATA_CLAIM_TOKEN", "tok"}, {"NETDATA_EXTRA_CLAIM_OPTS", opts}}), "https://f");
    ASSERT_TRUE(in.has_value());
    EXPECT_EQ(in->insecure, expected) << "'" << opts << "'";
  }
}

TEST(ClaimInputsTest, SplitFilesNeedToken) {
  test::TempDir dir;
  EXPECT_FALSE(claimInputsFromSplitFiles(dir.path(), "https://u", "env", false).has_value());
  test::writeText(dir.file("token"), "");
  EXPECT_FALSE(claimInputsFromSplitFiles(dir.path(), "https://u", "env", false).has_value());
}

TEST(ClaimInputsTest, SplitFilesTokenIsUntrimmed) {
  test::TempDir dir;
  test::writeText(dir.file("token"), "tok\n");
  test::writeText(dir.file("rooms"), "r1, r2");
  const auto in = claimInputsFromSplitFiles(dir.path(), "https://u", "none", true);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->source, "cloud.d split files");
  EXPECT_EQ(in->token, "tok\n");
  EXPECT_EQ(in->rooms, (Rooms{"r1", "r2"}));
  EXPECT_EQ(in->url, "https://u");
  EXPECT_EQ(in->proxy, "none");
  EXPECT_TRUE(in->insecure);
}

TEST(ClaimInputsTest, SplitFilesWithoutRooms) {
  test::TempDir dir;
  test::writeText(dir.file("token"), "tok");
  const auto in = claimInputsFromSplitFiles(dir.path(), "https://u", "env", false);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->token, "tok");
  EXPECT_EQ(in->rooms, Rooms{});
  EXPECT_FALSE(in->insecure);
}

}  // namespace
}  // namespace aclkd::claim
