#include "stream_bridge/stream_path.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/untrusted_text.h"
#include "common/uuid.h"
#include "stream_bridge/handshake.h"

namespace aclkd::stream_bridge {
namespace {

// Netdata's names (stream-capabilities.c), which STREAM_PATH carries; its order, which is not
// the bits' order. Bits it names nowhere (DYNCFG old, FLOAT_BASELINE, …) are left out as it does.
constexpr std::pair<uint64_t, std::string_view> kCapabilityNames[] = {
    {cap::kV1, "V1"},
    {cap::kV2, "V2"},
    {cap::kVN, "VN"},
    {cap::kVCaps, "VCAPS"},
    {cap::kHLabels, "HLABELS"},
    {cap::kClaim, "CLAIM"},
    {cap::kCLabels, "CLABELS"},
    {cap::kLz4, "LZ4"},
    {cap::kFunctions, "FUNCTIONS"},
    {cap::kReplication, "REPLICATION"},
    {cap::kBinary, "BINARY"},
    {cap::kInterpolated, "INTERPOLATED"},
    {cap::kIeee754, "IEEE754"},
    {cap::kMl, "ML"},
    {cap::kMlModels, "MLMODELS"},
    {cap::kDyncfg, "DYNCFG"},
    {cap::kSlots, "SLOTS"},
    {cap::kZstd, "ZSTD"},
    {cap::kGzip, "GZIP"},
    {cap::kBrotli, "BROTLI"},
    {cap::kProgress, "PROGRESS"},
    {cap::kNodeId, "NODEID"},
    {cap::kPaths, "PATHS"},
};

constexpr size_t kMaxHops = 64;  // a path longer than this is not a real topology

std::string text(const nlohmann::json& o, const char* key, bool* ok) {
  const auto it = o.find(key);
  if (it == o.end() || !it->is_string()) {
    *ok = false;
    return {};
  }
  return escapeUntrusted(it->get<std::string>());
}

// node_id and claim_id are null while a hop has none (an unclaimed agent, a node the cloud has not
// named yet): the zero UUID, as Netdata reads them.
std::string uuidOrZero(const nlohmann::json& o, const char* key, bool* ok) {
  const auto it = o.find(key);
  if (it == o.end()) {
    *ok = false;
    return {};
  }
  if (it->is_string() && isUuid(it->get<std::string>())) return it->get<std::string>();
  return std::string(kZeroUuid);
}

template <typename T>
T number(const nlohmann::json& o, const char* key, bool* ok) {
  const auto it = o.find(key);
  if (it == o.end() || !it->is_number()) {
    *ok = false;
    return 0;
  }
  if (it->is_number_float()) return static_cast<T>(it->get<double>());
  if (it->is_number_unsigned()) return static_cast<T>(it->get<uint64_t>());
  return static_cast<T>(it->get<int64_t>());
}

std::vector<std::string> names(const nlohmann::json& o, const char* key, bool* ok) {
  std::vector<std::string> out;
  const auto it = o.find(key);
  if (it == o.end() || !it->is_array()) {
    *ok = false;
    return out;
  }
  for (const auto& v : *it) {
    if (v.is_string() && out.size() < 64) out.push_back(escapeUntrusted(v.get<std::string>()));
  }
  return out;
}

std::optional<PathHop> parseHop(const nlohmann::json& o) {
  if (!o.is_object()) return std::nullopt;
  bool ok = true;
  PathHop h;
  h.hostname = text(o, "hostname", &ok);
  h.hostId = text(o, "host_id", &ok);
  h.nodeId = uuidOrZero(o, "node_id", &ok);
  h.claimId = uuidOrZero(o, "claim_id", &ok);
  h.hops = number<int64_t>(o, "hops", &ok);
  h.since = number<uint64_t>(o, "since", &ok);
  h.firstTime = number<uint64_t>(o, "first_time_t", &ok);
  h.startTime = number<int64_t>(o, "start_time", &ok);
  h.shutdownTime = number<int64_t>(o, "shutdown_time", &ok);
  h.capabilities = names(o, "capabilities", &ok);
  h.flags = names(o, "flags", &ok);
  if (!ok || h.hostname.empty() || !isUuid(h.hostId) || h.hostId == kZeroUuid || h.hops < 0 ||
      h.capabilities.empty() || h.since == 0) {
    return std::nullopt;
  }
  return h;
}

nlohmann::ordered_json hopJson(const PathHop& h) {
  nlohmann::ordered_json j;
  j["hostname"] = h.hostname;
  j["host_id"] = h.hostId;
  j["node_id"] = h.nodeId;
  j["claim_id"] = h.claimId;
  j["hops"] = h.hops;
  j["since"] = h.since;
  j["first_time_t"] = h.firstTime;
  j["start_time"] = h.startTime;
  j["shutdown_time"] = h.shutdownTime;
  j["capabilities"] = h.capabilities;
  j["flags"] = h.flags;
  return j;
}

void sortByHops(std::vector<PathHop>& hops) {
  std::stable_sort(hops.begin(), hops.end(),
                   [](const PathHop& a, const PathHop& b) { return a.hops < b.hops; });
}

}  // namespace

std::vector<std::string> capabilityNames(uint64_t caps) {
  std::vector<std::string> out;
  for (const auto& [bit, name] : kCapabilityNames) {
    if (caps & bit) out.emplace_back(name);
  }
  return out;
}

std::optional<std::vector<PathHop>> parseStreamPath(std::string_view json, std::string* error) {
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (error != nullptr) *error = "not a JSON object";
    return std::nullopt;
  }
  const auto it = j.find("streaming_path");
  if (it == j.end() || !it->is_array()) {
    if (error != nullptr) *error = "no 'streaming_path' array";
    return std::nullopt;
  }
  std::vector<PathHop> hops;
  for (const auto& item : *it) {
    if (hops.size() >= kMaxHops) break;
    if (auto h = parseHop(item)) hops.push_back(std::move(*h));
  }
  sortByHops(hops);
  return hops;
}

std::string renderStreamPath(std::vector<PathHop> hops, const PathHop& self) {
  hops.erase(std::remove_if(hops.begin(), hops.end(),
                            [&](const PathHop& h) { return h.hostId == self.hostId; }),
             hops.end());
  hops.push_back(self);
  sortByHops(hops);
  nlohmann::ordered_json j;
  j["version"] = 1;
  auto& array = j["streaming_path"] = nlohmann::ordered_json::array();
  for (const auto& h : hops) array.push_back(hopJson(h));
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string streamPathBlock(const std::string& payload) {
  return "JSON STREAM_PATH\n" + payload + "\nJSON_PAYLOAD_END\n";
}

std::string nodeIdCommand(const std::string& claimId, const std::string& nodeId,
                          const std::string& cloudUrl) {
  return "NODE_ID '" + claimId + "' '" + nodeId + "' '" + cloudUrl + "'\n";
}

}  // namespace aclkd::stream_bridge
