#include "web/live_channels.h"

#include <gtest/gtest.h>

namespace aclkd::web {
namespace {

LiveChannels channels(std::map<std::string, std::string>* world) {
  return LiveChannels([world](const std::string& channel, ChannelRender,
                              std::string* error) -> std::optional<std::string> {
    const auto it = world->find(channel);
    if (it == world->end()) {
      *error = "unknown channel '" + channel + "'";
      return std::nullopt;
    }
    return it->second;
  });
}

TEST(LiveChannelsTest, SubscribePushOnChangeUnsubscribe) {
  std::map<std::string, std::string> world = {{"aclk/status", "{\"n\":1}"}};
  auto live = channels(&world);
  EXPECT_EQ(live.onCommand(R"({"id":1,"subscribe":{"channel":"aclk/status"}})"),
            R"({"id":1,"result":{"data":{"n":1}}})");
  EXPECT_TRUE(live.pushChanged(world).empty()) << "unchanged: no push";
  world["aclk/status"] = "{\"n\":2}";
  EXPECT_EQ(live.pushChanged(world),
            std::vector<std::string>{R"({"push":{"channel":"aclk/status","data":{"n":2}}})"});
  EXPECT_EQ(live.onCommand(R"({"id":2,"unsubscribe":{"channel":"aclk/status"}})"),
            R"({"id":2,"result":{}})");
  world["aclk/status"] = "{\"n\":3}";
  EXPECT_TRUE(live.pushChanged(world).empty());
}

// A history answers a subscribe with all it keeps; the pushes (rendered by the sessions' cache
// with ChannelRender::kPush) carry what changed. The subscribe asks for the whole.
TEST(LiveChannelsTest, SubscribeAsksForTheWholeChannel) {
  std::vector<ChannelRender> asked;
  LiveChannels live([&asked](const std::string&, ChannelRender purpose, std::string*) {
    asked.push_back(purpose);
    return std::optional<std::string>(purpose == ChannelRender::kSubscribe ? "[1,2,3]" : "[3]");
  });
  EXPECT_EQ(live.onCommand(R"({"id":1,"subscribe":{"channel":"aclk/history"}})"),
            R"({"id":1,"result":{"data":[1,2,3]}})");
  EXPECT_EQ(asked, std::vector<ChannelRender>{ChannelRender::kSubscribe});
  EXPECT_EQ(live.pushChanged({{"aclk/history", "[4]"}}),
            std::vector<std::string>{R"({"push":{"channel":"aclk/history","data":[4]}})"});
}

TEST(LiveChannelsTest, Errors) {
  std::map<std::string, std::string> world;
  auto live = channels(&world);
  EXPECT_EQ(live.onCommand("nope"),
            R"({"error":{"code":400,"message":"the command is not a JSON object"},"id":null})");
  EXPECT_NE(live.onCommand(R"({"id":3,"subscribe":{"channel":"x/y"}})")
                .find("unknown channel 'x/y'"),
            std::string::npos);
  EXPECT_NE(live.onCommand(R"({"id":4,"subscribe":{}})").find("field 'channel'"),
            std::string::npos);
}

}  // namespace
}  // namespace aclkd::web
