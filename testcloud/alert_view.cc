#include "testcloud/alert_view.h"

namespace aclkd::testcloud {
namespace {

using nlohmann::ordered_json;

// Protobuf's JSON mapping writes 64-bit integers as strings.
uint64_t number(const ordered_json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_string()) {
    try {
      return std::stoull(it->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

std::string text(const ordered_json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// "ALARM_STATUS_WARNING" -> "WARNING"; an enum at 0 is left out of the JSON: "NULL".
std::string status(const ordered_json& j, const char* key) {
  const std::string s = text(j, key);
  constexpr std::string_view kPrefix = "ALARM_STATUS_";
  if (s.empty()) return "NULL";
  return s.rfind(kPrefix, 0) == 0 ? s.substr(kPrefix.size()) : s;
}

// One AlarmLogEntry (alone or in a snapshot) as the view shows it.
ordered_json summary(const ordered_json& e) {
  ordered_json t;
  t["name"] = text(e, "name");
  t["chart"] = text(e, "chart");
  t["status"] = status(e, "status");
  t["old_status"] = status(e, "old_status");
  t["when"] = number(e, "when");
  t["alert_version"] = number(e, "alert_version");
  t["value_string"] = text(e, "value_string");
  t["config_hash"] = text(e, "config_hash");
  t["transition_id"] = text(e, "transition_id");
  t["info"] = text(e, "rendered_info");
  return t;
}

}  // namespace

void AlertView::apply(Node& node, const ordered_json& e) {
  ordered_json t = summary(e);
  node.current[text(e, "chart") + "." + text(e, "name")] = t;
  node.transitions.push_back(std::move(t));
  if (node.transitions.size() > kTransitionsKept) node.transitions.pop_front();
}

void AlertView::observe(const std::string& type, const ordered_json& message) {
  if (type != "AlarmLogEntry" && type != "AlarmSnapshot") return;
  const std::string nodeId = text(message, "node_id");
  if (nodeId.empty()) return;
  std::lock_guard lock(mutex_);
  Node& node = nodes_[nodeId];
  if (type == "AlarmLogEntry") {
    apply(node, message);
    return;
  }
  // A snapshot replaces what the cloud knew, from its first chunk on.
  if (number(message, "chunk") <= 1) {
    node.current.clear();
    ++node.snapshots;
  }
  const auto alarms = message.find("alarms");
  if (alarms == message.end() || !alarms->is_array()) return;
  for (const auto& e : *alarms) {
    if (e.is_object()) node.current[text(e, "chart") + "." + text(e, "name")] = summary(e);
  }
}

uint64_t AlertView::version(const std::string& nodeId) const {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(nodeId);
  if (it == nodes_.end()) return 0;
  uint64_t sum = 0;
  for (const auto& [key, a] : it->second.current) {
    if (a["status"] != "REMOVED") sum += a["alert_version"].get<uint64_t>();
  }
  return sum;
}

ordered_json AlertView::nodeJson(const std::string& nodeId) const {
  const uint64_t v = version(nodeId);
  std::lock_guard lock(mutex_);
  ordered_json out;
  out["node_id"] = nodeId;
  out["version"] = v;
  out["raised"] = ordered_json::array();
  out["alerts"] = ordered_json::object();
  out["transitions"] = ordered_json::array();
  out["snapshots"] = 0;
  const auto it = nodes_.find(nodeId);
  if (it == nodes_.end()) return out;
  for (const auto& [key, a] : it->second.current) {
    out["alerts"][key] = a;
    if (a["status"] == "WARNING" || a["status"] == "CRITICAL") out["raised"].push_back(a);
  }
  for (const auto& t : it->second.transitions) out["transitions"].push_back(t);
  out["snapshots"] = it->second.snapshots;
  return out;
}

void AlertView::addRoutes(ApiRouter& router) {
  router.add("GET", "/testcloud/api/nodes/{node_id}/alerts", [this](const Request& r) {
    return jsonReply(200, nodeJson(r.param("node_id")));
  });
}

}  // namespace aclkd::testcloud
