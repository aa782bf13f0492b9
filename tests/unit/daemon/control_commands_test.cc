#include "daemon/control_commands.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace aclkd::daemon {
namespace {

// Records what the commands asked for; answers with fixed texts.
class FakeTarget : public ControlTarget {
 public:
  std::string aclkStateJson() const override { return R"({"online":false})"; }
  std::string reloadClaimingState() override {
    calls.push_back("reload-claiming-state");
    return "claimed";
  }
  std::string claim(const ClaimRequest& request, bool* failed) override {
    calls.push_back("claim");
    claimed = request;
    *failed = request.token == "bad";
    return *failed ? "Claiming failed: no" : "claimed with claimed_id x";
  }
  std::string streamsJson() const override { return R"([{"hostname":"a"}])"; }
  std::string nodesJson() const override { return "[]"; }
  std::string reloadConfig() override {
    calls.push_back("reload");
    return "reloaded";
  }
  std::vector<std::string> staleNodes(const std::string& which, bool unregister) override {
    calls.push_back(std::string(unregister ? "remove " : "ephemeral ") + which);
    return lines;
  }

  std::vector<std::string> calls;
  ClaimRequest claimed;
  std::vector<std::string> lines;
};

nlohmann::json ask(ControlTarget& target, const std::string& line) {
  return nlohmann::json::parse(dispatchControl(line, target));
}

TEST(ControlCommandsTest, MalformedRequestsReachNothing) {
  FakeTarget t;
  for (const char* line : {"", "not json", "[]", R"({"command":3})", R"({"cmd":"ping"})"}) {
    const auto r = ask(t, line);
    EXPECT_EQ(r["code"], 1) << line;
    EXPECT_EQ(r["text"], "malformed request: expected {\"command\": \"...\"}") << line;
  }
  EXPECT_EQ(ask(t, R"({"command":"launch"})")["text"], "unknown command 'launch'");
  EXPECT_TRUE(t.calls.empty());
}

TEST(ControlCommandsTest, StateStreamsAndNodesAreEmbeddedAsJson) {
  FakeTarget t;
  EXPECT_EQ(dispatchControl(R"({"command":"aclk-state"})", t),
            R"({"code":0,"state":{"online":false}})");
  EXPECT_EQ(dispatchControl(R"({"command":"streams"})", t),
            R"({"code":0,"streams":[{"hostname":"a"}]})");
  EXPECT_EQ(dispatchControl(R"({"command":"nodes"})", t), R"({"code":0,"nodes":[]})");
  EXPECT_EQ(dispatchControl(R"({"command":"ping"})", t), R"({"code":0,"text":"pong"})");
}

TEST(ControlCommandsTest, ClaimTakesItsArgumentsAndReportsFailure) {
  FakeTarget t;
  auto r = ask(t, R"({"command":"claim","token":"tok","rooms":"r1,r2","url":"https://c",)"
                  R"("proxy":"none","insecure":true})");
  EXPECT_EQ(r["code"], 0);
  EXPECT_EQ(t.claimed.token, "tok");
  EXPECT_EQ(t.claimed.rooms, "r1,r2");
  EXPECT_EQ(t.claimed.url, "https://c");
  EXPECT_EQ(t.claimed.proxy, "none");
  EXPECT_TRUE(t.claimed.insecure);
  r = ask(t, R"({"command":"claim","token":"bad","insecure":"yes"})");
  EXPECT_EQ(r["code"], 1);
  EXPECT_EQ(r["text"], "Claiming failed: no");
  EXPECT_FALSE(t.claimed.insecure) << "only a JSON boolean says insecure";
}

TEST(ControlCommandsTest, StaleNodeCommandsNeedANodeAndListWhatTheyDid) {
  FakeTarget t;
  auto r = ask(t, R"({"command":"remove-stale-node"})");
  EXPECT_EQ(r["code"], 1);
  EXPECT_EQ(r["text"], "Please specify a machine or node UUID or hostname");
  EXPECT_TRUE(t.calls.empty());
  t.lines = {"removed a", "removed b"};
  EXPECT_EQ(dispatchControl(R"({"command":"remove-stale-node","node":"stale"})", t),
            R"({"code":0,"results":["removed a","removed b"],"text":"removed a\nremoved b"})");
  ask(t, R"({"command":"mark-stale-nodes-ephemeral","node":"all"})");
  EXPECT_EQ(t.calls, (std::vector<std::string>{"remove stale", "ephemeral all"}));
}

TEST(ControlCommandsTest, ReloadsAnswerWithTheirText) {
  FakeTarget t;
  EXPECT_EQ(dispatchControl(R"({"command":"reload"})", t), R"({"code":0,"text":"reloaded"})");
  EXPECT_EQ(dispatchControl(R"({"command":"reload-claiming-state"})", t),
            R"({"code":0,"text":"claimed"})");
}

}  // namespace
}  // namespace aclkd::daemon
