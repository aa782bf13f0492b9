#include "aclk/node_info.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace aclkd::aclk {
namespace {

bool allDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

const CapabilityValue* find(const std::vector<CapabilityValue>& caps, const std::string& name) {
  for (const auto& c : caps) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(NodeInfoTest, ProbeFillsTheMachineFacts) {
  const auto info = probeSystemInfo();
  EXPECT_EQ(info.os, "linux");
  EXPECT_EQ(info.kernelName, "Linux");
  EXPECT_FALSE(info.kernelVersion.empty());
  EXPECT_FALSE(info.architecture.empty());
  EXPECT_GT(info.cpus, 0u);
  EXPECT_TRUE(allDigits(info.memory)) << info.memory;
  EXPECT_NE(info.memory, "0");
  EXPECT_TRUE(allDigits(info.cpuFrequency)) << info.cpuFrequency;
  EXPECT_TRUE(allDigits(info.diskSpace)) << info.diskSpace;
  EXPECT_FALSE(info.timezone.empty());
  EXPECT_TRUE(info.container == "docker" || info.container == "podman" ||
              info.container == "none")
      << info.container;
}

TEST(NodeInfoTest, ProbeIsStable) {
  const auto a = probeSystemInfo();
  const auto b = probeSystemInfo();
  EXPECT_EQ(a.kernelName, b.kernelName);
  EXPECT_EQ(a.kernelVersion, b.kernelVersion);
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.memory, b.memory);
  EXPECT_EQ(a.osName, b.osName);
  EXPECT_EQ(a.container, b.container);
}

TEST(NodeInfoTest, HostLabelsOfTheBrief) {
  using Labels = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(aclkHostLabels("HTTP"), (Labels{{"_aclk_available", "true"},
                                            {"_mqtt_version", "5"},
                                            {"_aclk_proxy", "HTTP"},
                                            {"_aclk_ng_new_cloud_protocol", "true"}}));
  for (const std::string kind : {"SOCKS5", "SOCKS5H", "none"}) {
    const auto labels = aclkHostLabels(kind);
    ASSERT_EQ(labels.size(), 4u);
    EXPECT_EQ(labels[2], (std::pair<std::string, std::string>{"_aclk_proxy", kind}));
  }
  EXPECT_EQ(aclkHostLabels("")[2].second, "none") << "an empty kind reads as none";
}

void expectWellFormed(const std::vector<CapabilityValue>& caps) {
  std::set<std::string> names;
  for (const auto& c : caps) {
    EXPECT_FALSE(c.name.empty());
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate capability " << c.name;
  }
  const auto* proto = find(caps, "proto");
  ASSERT_NE(proto, nullptr);
  EXPECT_EQ(proto->version, 1u);
  EXPECT_TRUE(proto->enabled);
  const auto* ctx = find(caps, "ctx");
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(ctx->version, 1u);
  EXPECT_TRUE(ctx->enabled);
  const auto* api = find(caps, "http_api_v2");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->version, 7u);
  EXPECT_TRUE(api->enabled);
  // The gateway has no ML engine: never announced as enabled.
  const auto* ml = find(caps, "ml");
  ASSERT_NE(ml, nullptr);
  EXPECT_FALSE(ml->enabled);
}

TEST(NodeInfoTest, AgentCapabilities) {
  const auto caps = agentCapabilities();
  expectWellFormed(caps);
  const auto* json = find(caps, "json");
  ASSERT_NE(json, nullptr);
  EXPECT_EQ(json->version, 2u);
  EXPECT_FALSE(json->enabled);
  // The docs/protocol/aclk.md §7.3 set of names, in its order.
  std::vector<std::string> names;
  for (const auto& c : caps) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"json", "proto", "ml", "mc", "ctx", "funcs",
                                             "http_api_v2", "health", "req_cancel", "dyncfg"}));
}

TEST(NodeInfoTest, AgentCapabilitiesFollowWhatTheGatewayRelays) {
  EXPECT_FALSE(find(agentCapabilities(), "funcs")->enabled);
  EXPECT_FALSE(find(agentCapabilities(), "health")->enabled);
  NodeFeatures all;
  all.functions = all.dyncfg = all.health = true;
  const auto caps = agentCapabilities(all);
  EXPECT_TRUE(find(caps, "funcs")->enabled);
  EXPECT_TRUE(find(caps, "dyncfg")->enabled);
  EXPECT_TRUE(find(caps, "health")->enabled);
}

TEST(NodeInfoTest, NodeInstanceCapabilitiesAreThePromisesOfTheNode) {
  NodeFeatures f;
  EXPECT_FALSE(find(nodeInstanceCapabilities(f), "funcs")->enabled);
  EXPECT_EQ(find(nodeInstanceCapabilities(f), "funcs")->version, 0u);
  f.functions = true;
  EXPECT_TRUE(find(nodeInstanceCapabilities(f), "funcs")->enabled);
  EXPECT_EQ(find(nodeInstanceCapabilities(f), "funcs")->version, 1u);
  EXPECT_FALSE(find(nodeInstanceCapabilities(f), "dyncfg")->enabled);
  f.dyncfg = true;
  f.health = true;
  EXPECT_TRUE(find(nodeInstanceCapabilities(f), "dyncfg")->enabled);
  EXPECT_TRUE(find(nodeInstanceCapabilities(f), "health")->enabled);
}

TEST(NodeInfoTest, NodeInstanceCapabilities) {
  for (const bool functions : {true, false}) {
    NodeFeatures f;
    f.functions = functions;
    const auto caps = nodeInstanceCapabilities(f);
    expectWellFormed(caps);
    EXPECT_EQ(find(caps, "json"), nullptr) << "json is an agent-level capability only";
    std::vector<std::string> names;
    for (const auto& c : caps) names.push_back(c.name);
    EXPECT_EQ(names, (std::vector<std::string>{"proto", "ml", "mc", "ctx", "funcs",
                                               "http_api_v2", "health", "req_cancel", "dyncfg"}));
  }
}

}  // namespace
}  // namespace aclkd::aclk
