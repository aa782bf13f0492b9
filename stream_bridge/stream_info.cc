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
  const char* dbStatus = "initializing";
  const char* liveness = "stale";
  const char* ingestType = "archived";
  const char* ingestStatus = "offline";
  switch (f.host) {
    case HostKnowledge::kLocalhost:
      dbStatus = "online";  // Netdata's name for QUERYABLE
      liveness = "live";
      ingestType = "localhost";
      ingestStatus = "online";
      break;
    case HostKnowledge::kOnline:
      dbStatus = "online";  // Netdata's name for QUERYABLE
      liveness = "live";
      ingestType = "child";
      ingestStatus = "online";
      break;
    case HostKnowledge::kOffline:
      dbStatus = "online";  // Netdata's name for QUERYABLE
      break;
    case HostKnowledge::kUnknown:
      break;
  }
  j["db_status"] = dbStatus;
  j["db_liveness"] = liveness;
  j["ingest_type"] = ingestType;
  j["ingest_status"] = ingestStatus;
  j["first_time_s"] = static_cast<uint64_t>(f.firstSeen > 0 ? f.firstSeen : 0);
  j["last_time_s"] = static_cast<uint64_t>(f.lastSeen > 0 ? f.lastSeen : 0);
  return j.dump();
}

}  // namespace aclkd::stream_bridge
