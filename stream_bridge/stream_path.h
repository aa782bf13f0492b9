#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aclkd::stream_bridge {

// One hop of a node's streaming path (Netdata's STREAM_PATH, PATHS capability): the agent the
// data passes through, `hops` from the node's origin (0 = the node itself).
struct PathHop {
  std::string hostname;
  std::string hostId;   // the agent's machine GUID
  std::string nodeId;   // its cloud node id, the zero UUID when it has none
  std::string claimId;  // the zero UUID when unclaimed
  int64_t hops = 0;
  uint64_t since = 0;
  uint64_t firstTime = 0;
  int64_t startTime = 0;     // ms
  int64_t shutdownTime = 0;  // ms
  std::vector<std::string> capabilities;  // names (Netdata's, e.g. "VCAPS")
  std::vector<std::string> flags;         // "aclk", "health", "ml", "ephemeral", "virtual"
};

inline constexpr std::string_view kZeroUuid = "00000000-0000-0000-0000-000000000000";

// Netdata's capability names for the bits of `caps` it has names for, in its order.
std::vector<std::string> capabilityNames(uint64_t caps);

// The payload of a child's `JSON STREAM_PATH` block: `{"version":1,"streaming_path":[…]}`.
// Untrusted: a hop that lacks a field, has an empty hostname, a non-UUID host id, negative hops,
// no capabilities or since ≤ 0 is dropped, as a v2 parent drops it; text is escaped. The hops
// come back sorted by `hops`. nullopt with `error` when the payload is not such an object.
std::optional<std::vector<PathHop>> parseStreamPath(std::string_view json, std::string* error);

// What a parent sends back to the child: the child's hops without any entry for `self.hostId`,
// then `self` (the gateway's own hop), sorted by hops; minified as Netdata sends it.
std::string renderStreamPath(std::vector<PathHop> hops, const PathHop& self);

// The `JSON STREAM_PATH` block around a payload, as both sides send it.
std::string streamPathBlock(const std::string& payload);

// `NODE_ID '<claim id>' '<node id>' '<cloud url>'`: what a v2 parent sends a child whose node
// id it knows (NODE_ID capability).
std::string nodeIdCommand(const std::string& claimId, const std::string& nodeId,
                          const std::string& cloudUrl);

}  // namespace aclkd::stream_bridge
