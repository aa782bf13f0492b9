#include "aclk/aclk_state_view.h"

#include <nlohmann/json.hpp>

namespace aclkd::aclk {
namespace {

nlohmann::ordered_json optionalText(const std::optional<std::string>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json optionalTime(const std::optional<std::time_t>& t) {
  return t ? nlohmann::ordered_json(formatUtc(*t)) : nlohmann::ordered_json(nullptr);
}

}  // namespace

std::string formatUtc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string renderAclkStateJson(const AclkStateView& v) {
  nlohmann::ordered_json j;
  j["aclk-available"] = true;
  j["aclk-version"] = 2;
  j["protocols-supported"] = {"Protobuf"};
  j["agent-claimed"] = v.claimed;
  j["claimed-id"] = optionalText(v.claimedId);
  j["cloud-url"] = optionalText(v.cloudUrl);
  j["aclk_proxy"] = v.proxyDisplay;
  j["publish_latency_us"] = v.publishLatencyUs;
  j["online"] = v.online;
  j["used-cloud-protocol"] = "Protobuf";
  j["mqtt-version"] = 5;
  j["received-app-layer-msgs"] = v.receivedMessages;
  j["received-mqtt-pubacks"] = v.receivedPubacks;
  j["pending-mqtt-pubacks"] = v.online ? v.pendingPubacks : 0;
  j["timed-out-mqtt-pubacks-since-start"] = v.online ? v.timedOutPubacks : 0;
  j["server-receive-maximum"] = v.online ? v.serverReceiveMaximum : 0;
  j["reconnect-count"] = v.reconnectCount;
  j["last-connect-time-utc"] = optionalTime(v.times.lastConnect);
  j["last-connect-time-puback-utc"] = optionalTime(v.times.lastConnectPuback);
  j["last-disconnect-time-utc"] = optionalTime(v.times.lastDisconnect);
  j["next-connection-attempt-utc"] =
      v.online ? nlohmann::ordered_json(nullptr) : optionalTime(v.times.nextConnectionAttempt);
  j["last-backoff-value"] = (v.online || !v.times.lastBackoffSeconds || *v.times.lastBackoffSeconds == 0)
                                ? nlohmann::ordered_json(nullptr)
                                : nlohmann::ordered_json(*v.times.lastBackoffSeconds);
  j["banned-by-cloud"] = v.banned;
  auto nodes = nlohmann::ordered_json::array();
  for (const auto& n : v.nodes) {
    nlohmann::ordered_json o;
    o["hostname"] = n.hostname;
    o["mguid"] = n.machineGuid;
    o["claimed_id"] = optionalText(n.claimedId);
    o["node-id"] = optionalText(n.nodeId);
    o["streaming-hops"] = n.streamingHops;
    o["relationship"] = n.self ? "self" : "child";
    o["streaming-online"] = n.streamingOnline;
    o["alert-sync-status"] = nlohmann::ordered_json::object();
    nodes.push_back(std::move(o));
  }
  j["node-instances"] = std::move(nodes);
  j["aclk-status"] = v.aclkStatus;
  j["cloud-status"] = v.cloudStatus;
  j["cloud-reason"] = v.cloudReason;
  if (!v.counters.empty()) {
    nlohmann::ordered_json counters = nlohmann::ordered_json::object();
    for (const auto& [name, value] : v.counters) {
      counters[name] = value;
    }
    j["counters"] = std::move(counters);
  }
  return j.dump();
}

}  // namespace aclkd::aclk
