#include "daemon/live_channels.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aclkd::daemon {
namespace {

constexpr const char* kGuid = "11111111-2222-3333-4444-555555555555";

std::string errorOf(const std::string& channel, const SurfaceSnapshot& s = {}) {
  std::string error;
  EXPECT_FALSE(renderChannel(channel, s, &error)) << channel;
  return error;
}

TEST(LiveChannelsTest, BadNamesSayWhatIsWrong) {
  EXPECT_EQ(errorOf(""), "channel name is empty");
  EXPECT_EQ(errorOf(std::string(161, 'a')), "channel name has 161 characters; at most 160");
  EXPECT_EQ(errorOf("aclk/st tus"),
            "channel name has the character ' '; allowed are A-Z a-z 0-9 _ - = . and /");
  EXPECT_EQ(errorOf("aclk//status"),
            "channel name has an empty segment; expected scope/namespace[/path]");
  EXPECT_EQ(errorOf("aclk"), "channel name has no namespace; expected scope/namespace[/path]");
  EXPECT_EQ(errorOf("cpu/user"), "unknown scope 'cpu'; the scopes are aclk, nodes and streams");
  EXPECT_EQ(errorOf("aclk/other"),
            "unknown channel 'aclk/other'; the aclk scope has aclk/status and aclk/history");
  EXPECT_EQ(errorOf("nodes/short"), "channel 'nodes/short': expected nodes/<machine_guid>");
  EXPECT_EQ(errorOf(std::string("nodes/") + kGuid),
            std::string("no node with machine GUID ") + kGuid);
}

TEST(LiveChannelsTest, StatusCarriesTheStateWithItsCounters) {
  SurfaceSnapshot s;
  s.state.counters.emplace_back("streams-accepted", 4);
  stream_bridge::NodeView n;
  n.machineGuid = kGuid;
  s.nodes.push_back(n);
  std::string error;
  const auto status = renderChannel("aclk/status", s, &error);
  ASSERT_TRUE(status) << error;
  const auto j = nlohmann::json::parse(*status);
  EXPECT_EQ(j["state"]["counters"]["streams-accepted"], 4);
  EXPECT_EQ(j["nodes"].size(), 1u);
  EXPECT_TRUE(j["streams"].empty());
  EXPECT_TRUE(renderChannel(std::string("nodes/") + kGuid, s, &error));
  EXPECT_EQ(renderChannel(std::string("streams/") + kGuid, s, &error), R"({"connected":false})");
}

// Found by tests/fuzz/live_channels_fuzz.cc: the error quoted one byte of a multi-byte character
// (not UTF-8 alone), and the live channel's JSON reply threw on it.
TEST(RenderChannelTest, ABadCharacterIsNamedEscaped) {
  std::string error;
  EXPECT_FALSE(renderChannel("nodes/2d\xC8\x91x", SurfaceSnapshot{}, &error));
  EXPECT_EQ(error,
            "channel name has the character '\\xc8'; allowed are A-Z a-z 0-9 _ - = . and /");
  EXPECT_NO_THROW(nlohmann::json(error).dump());
}

}  // namespace
}  // namespace aclkd::daemon
