#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "testcloud/api_router.h"

namespace aclkd::testcloud {

// What the test cloud knows of each node's alerts, built from the AlarmLogEntry and AlarmSnapshot
// messages it received (their JSON form, as recorded): the present state per alert and the last
// transitions. Its version of a node is what the cloud puts in StartAlarmStreaming: the sum of
// alert_version over alerts not REMOVED (docs/protocol/alerts.md §4).
//
//   GET /testcloud/api/nodes/{node_id}/alerts   {node_id, version, raised: [...], alerts: {...},
//                                                transitions: [...] (newest last), snapshots}
class AlertView {
 public:
  static constexpr size_t kTransitionsKept = 100;

  // `type`: the message type; other types than the alert ones are ignored.
  void observe(const std::string& type, const nlohmann::ordered_json& message);
  uint64_t version(const std::string& nodeId) const;
  nlohmann::ordered_json nodeJson(const std::string& nodeId) const;
  void addRoutes(ApiRouter& router);

 private:
  struct Node {
    std::map<std::string, nlohmann::ordered_json> current;  // by "<chart>.<name>"
    std::deque<nlohmann::ordered_json> transitions;
    uint64_t snapshots = 0;
  };
  void apply(Node& node, const nlohmann::ordered_json& entry);

  mutable std::mutex mutex_;
  std::map<std::string, Node> nodes_;  // by node id; guarded by mutex_
};

}  // namespace aclkd::testcloud
