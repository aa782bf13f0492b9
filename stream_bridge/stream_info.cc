#include "stream_bridge/stream_info.h"

#include <nlohmann/json.hpp>

namespace aclkd::stream_bridge {

std::string streamInfoMachineGuid(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view rest = target.substr(q + 1);
  std::string guid;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    if (item.substr(0, eq) == "machine_guid" && eq + 1 < item.size()) {
      guid = std::string(item.substr(eq + 1));
    }
  }
  return guid;
}

std::string renderStreamInfo(const StreamInfoFacts& f) {
  nlohmann::ordered_json j;
  j["version"] = 1;
  j["status"] = 200;
  j["host_id"] = f.gatewayGuid;
  j["nodes"] = f.nodes;
  j["receivers"] = f.receivers;
  j["nonce"] = f.nonce;
  // db_status, db_liveness, ingest_type, ingest_status by what the gateway knows of the host.
  // (db_status "online" is Netdata's name for QUERYABLE.)
  struct Status {
    const char* db;
    const char* liveness;
    const char* type;
    const char* ingest;
  };
  static constexpr Status kUnknown{"initializing", "stale", "archived", "offline"};
  static constexpr Status kOffline{"online", "stale", "archived", "offline"};
  static constexpr Status kOnline{"online", "live", "child", "online"};
  static constexpr Status kLocalhost{"online", "live", "localhost", "online"};
  const Status& s = f.host == HostKnowledge::kLocalhost ? kLocalhost
                    : f.host == HostKnowledge::kOnline  ? kOnline
                    : f.host == HostKnowledge::kOffline ? kOffline
                                                        : kUnknown;
  j["db_status"] = s.db;
  j["db_liveness"] = s.liveness;
  j["ingest_type"] = s.type;
  j["ingest_status"] = s.ingest;
  j["first_time_s"] = static_cast<uint64_t>(f.firstSeen > 0 ? f.firstSeen : 0);
  j["last_time_s"] = static_cast<uint64_t>(f.lastSeen > 0 ? f.lastSeen : 0);
  return j.dump();
}

}  // namespace aclkd::stream_bridge
