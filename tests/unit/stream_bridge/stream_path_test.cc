#include "stream_bridge/stream_path.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "stream_bridge/handshake.h"
#include "stream_bridge/stream_info.h"
#include "stream_bridge/stream_parser.h"

namespace aclkd::stream_bridge {
namespace {

// What a v2.10.4 child sends at connect (one hop: itself), shaped as its sender writes it.
const char* const kChildPath =
    R"({"version":1,"streaming_path":[{"hostname":"nd2-child",)"
    R"("host_id":"11111111-2222-3333-4444-555555555555",)"
    R"("node_id":"00000000-0000-0000-0000-000000000000",)"
    R"("claim_id":"00000000-0000-0000-0000-000000000000","hops":0,"since":1764470000,)"
    R"("first_time_t":1764469000,"start_time":1764469999000,"shutdown_time":0,)"
    R"("capabilities":["VCAPS","HLABELS","NODEID","PATHS"],"flags":["health"]}]})";

PathHop gatewayHop() {
  PathHop h;
  h.hostname = "gw";
  h.hostId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  h.nodeId = std::string(kZeroUuid);
  h.claimId = "99999999-8888-7777-6666-555555555555";
  h.hops = 1;
  h.since = 1764470001;
  h.capabilities = capabilityNames(cap::kVCaps | cap::kNodeId | cap::kPaths);
  h.flags = {"aclk"};
  return h;
}

TEST(StreamPath, ParsesAChildsPath) {
  std::string error;
  const auto hops = parseStreamPath(kChildPath, &error);
  ASSERT_TRUE(hops) << error;
  ASSERT_EQ(hops->size(), 1u);
  const PathHop& h = (*hops)[0];
  EXPECT_EQ(h.hostname, "nd2-child");
  EXPECT_EQ(h.hostId, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(h.hops, 0);
  EXPECT_EQ(h.since, 1764470000u);
  EXPECT_EQ(h.startTime, 1764469999000);
  EXPECT_EQ(h.capabilities, (std::vector<std::string>{"VCAPS", "HLABELS", "NODEID", "PATHS"}));
  EXPECT_EQ(h.flags, std::vector<std::string>{"health"});
}

TEST(StreamPath, RefusesWhatIsNotAPathAndDropsBadHops) {
  std::string error;
  EXPECT_FALSE(parseStreamPath("not json", &error));
  EXPECT_EQ(error, "not a JSON object");
  EXPECT_FALSE(parseStreamPath(R"({"version":1})", &error));
  EXPECT_EQ(error, "no 'streaming_path' array");
  // Each of these is dropped, as a v2 parent drops it: negative hops, zero host id, no
  // capabilities, since 0, a missing field.
  auto j = nlohmann::json::parse(kChildPath);
  auto good = j["streaming_path"][0];
  auto bad = nlohmann::json::array();
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, nlohmann::json>>{
           {"hops", -1}, {"host_id", std::string(kZeroUuid)},
           {"capabilities", nlohmann::json::array()}, {"since", 0}, {"hostname", ""}}) {
    auto h = good;
    h[key] = value;
    bad.push_back(h);
  }
  auto missing = good;
  missing.erase("flags");
  bad.push_back(missing);
  bad.push_back(good);
  j["streaming_path"] = bad;
  const auto hops = parseStreamPath(j.dump(), &error);
  ASSERT_TRUE(hops);
  EXPECT_EQ(hops->size(), 1u);
}

TEST(StreamPath, NullIdsAreTheZeroUuid) {
  // What a v2.10.4 agent sends for an unclaimed hop, or one the cloud has not named yet.
  auto j = nlohmann::json::parse(kChildPath);
  j["streaming_path"][0]["claim_id"] = nullptr;
  j["streaming_path"][0]["node_id"] = nullptr;
  const auto hops = parseStreamPath(j.dump(), nullptr);
  ASSERT_TRUE(hops);
  ASSERT_EQ(hops->size(), 1u);
  EXPECT_EQ((*hops)[0].claimId, kZeroUuid);
  EXPECT_EQ((*hops)[0].nodeId, kZeroUuid);
}

TEST(StreamPath, ControlCharactersAreEscaped) {
  auto j = nlohmann::json::parse(kChildPath);
  j["streaming_path"][0]["hostname"] = "evil\nhost";
  const auto hops = parseStreamPath(j.dump(), nullptr);
  ASSERT_TRUE(hops);
  ASSERT_EQ(hops->size(), 1u);
  EXPECT_EQ((*hops)[0].hostname, "evil\\x0ahost");
}

TEST(StreamPath, RenderAddsTheGatewayHopSortedAndReplacesAStaleOne) {
  auto hops = *parseStreamPath(kChildPath, nullptr);
  // A stale entry for the gateway (from an earlier session) is replaced, not repeated.
  PathHop stale = gatewayHop();
  stale.hops = 7;
  hops.insert(hops.begin(), stale);
  const auto out = nlohmann::json::parse(renderStreamPath(hops, gatewayHop()));
  EXPECT_EQ(out["version"], 1);
  const auto& path = out["streaming_path"];
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[0]["hostname"], "nd2-child");
  EXPECT_EQ(path[1]["hostname"], "gw");
  EXPECT_EQ(path[1]["hops"], 1);
  EXPECT_EQ(path[1]["flags"], nlohmann::json::array({"aclk"}));
  EXPECT_EQ(path[1]["capabilities"], nlohmann::json::array({"VCAPS", "NODEID", "PATHS"}));
  // Netdata's field order, so that a child's parser and a diff both read it the same way.
  std::vector<std::string> keys;
  const auto alone = nlohmann::ordered_json::parse(renderStreamPath({}, gatewayHop()));
  for (const auto& item : alone["streaming_path"][0].items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"hostname", "host_id", "node_id", "claim_id", "hops",
                                            "since", "first_time_t", "start_time",
                                            "shutdown_time", "capabilities", "flags"}));
  // What a parent sends round-trips through the parser a child uses (ours, here).
  EXPECT_EQ(parseStreamPath(renderStreamPath(hops, gatewayHop()), nullptr)->size(), 2u);
}

TEST(StreamPath, BlockAndNodeIdCommand) {
  EXPECT_EQ(streamPathBlock("{}"), "JSON STREAM_PATH\n{}\nJSON_PAYLOAD_END\n");
  EXPECT_EQ(nodeIdCommand("c", "n", "https://app.netdata.cloud"),
            "NODE_ID 'c' 'n' 'https://app.netdata.cloud'\n");
}

TEST(StreamPath, CapabilityNamesInNetdatasOrder) {
  // A v2.10.4 child's offer, ANDed with what the bridge implements.
  const uint64_t negotiated = negotiate(197458936, ~0ull, true);
  EXPECT_EQ(capabilityNames(negotiated & (cap::kVCaps | cap::kHLabels | cap::kNodeId |
                                          cap::kPaths | (1ull << 23) | (1ull << 16))),
            (std::vector<std::string>{"VCAPS", "HLABELS", "DYNCFG", "NODEID", "PATHS"}));
}

class PathRecorder : public StreamEvents {
 public:
  std::vector<std::string> paths;
  void onStreamPath(std::string_view json) override { paths.emplace_back(json); }
};

TEST(StreamPath, TheParserHandsOverOnlyStreamPathBlocks) {
  PathRecorder r;
  StreamParser parser(r);
  std::string error;
  ASSERT_TRUE(parser.feed("JSON ML_MODEL\n{\"x\":1}\nJSON_PAYLOAD_END\nJSON STREAM_PATH\n", &error));
  ASSERT_TRUE(parser.feed(std::string(kChildPath).substr(0, 40), &error));
  ASSERT_TRUE(parser.feed(std::string(kChildPath).substr(40) + "\nJSON_PAYLOAD_END\n", &error));
  ASSERT_EQ(r.paths.size(), 1u);
  EXPECT_EQ(r.paths[0], std::string(kChildPath) + "\n");
  EXPECT_TRUE(parseStreamPath(r.paths[0], nullptr));
}

TEST(StreamInfo, MachineGuidFromTheTarget) {
  EXPECT_EQ(streamInfoMachineGuid("/api/v3/stream_info?machine_guid=abc"), "abc");
  EXPECT_EQ(streamInfoMachineGuid("/api/v3/stream_info?x=1&machine_guid=a&machine_guid=b"), "b");
  EXPECT_EQ(streamInfoMachineGuid("/api/v3/stream_info?machine_guid="), "");
  EXPECT_EQ(streamInfoMachineGuid("/api/v3/stream_info"), "");
}

TEST(StreamInfo, EveryFieldAV2ChildParses) {
  StreamInfoFacts f;
  f.gatewayGuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  f.nodes = 3;
  f.receivers = 2;
  f.nonce = 42;
  EXPECT_EQ(renderStreamInfo(f),
            R"({"version":1,"status":200,"host_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",)"
            R"("nodes":3,"receivers":2,"nonce":42,"db_status":"initializing",)"
            R"("db_liveness":"stale","ingest_type":"archived","ingest_status":"offline",)"
            R"("first_time_s":0,"last_time_s":0})");
  f.host = HostKnowledge::kOnline;
  f.firstSeen = 100;
  f.lastSeen = 200;
  const auto online = nlohmann::json::parse(renderStreamInfo(f));
  EXPECT_EQ(online["ingest_type"], "child");
  EXPECT_EQ(online["ingest_status"], "online");
  EXPECT_EQ(online["db_status"], "online");  // Netdata's name for "queryable"
  EXPECT_EQ(online["db_liveness"], "live");
  EXPECT_EQ(online["first_time_s"], 100);
  EXPECT_EQ(online["last_time_s"], 200);
  f.host = HostKnowledge::kOffline;
  EXPECT_EQ(nlohmann::json::parse(renderStreamInfo(f))["ingest_status"], "offline");
  f.host = HostKnowledge::kLocalhost;
  EXPECT_EQ(nlohmann::json::parse(renderStreamInfo(f))["ingest_type"], "localhost");
}

}  // namespace
}  // namespace aclkd::stream_bridge
