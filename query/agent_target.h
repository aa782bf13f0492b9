#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aclkd::query {

// What the gateway knows of one node when a query for it arrives (gathered by the daemon from
// the node registry, the link's node ids and stream.conf).
struct NodeFacts {
  std::string machineGuid;
  std::string hostname;
  std::string nodeId;      // empty until the cloud assigned one
  bool self = false;       // the gateway's own node
  bool live = false;       // its stream is connected
  int hops = 1;            // 1: the peer is the node's own agent; 2+: a parent relays it
  std::string peer;        // "ip:port" of the stream's TCP peer
  // stream.conf: `query url` of the node's machine GUID section (the node's own address, used
  // as is) and of its API key's section (the streaming agent's address).
  std::string guidQueryUrl;
  std::string keyQueryUrl;
  bool allowQueries = true;  // `allow queries` (GUID section wins over the key's)
  std::string caFile;        // `ca file` for https query URLs
  bool insecure = false;     // `insecure`: no TLS verification towards the agent
  // Functions: whether the cloud's calls go down the node's stream, and when not, why
  // (`functionsForbidden`: by configuration, so no other way is tried either).
  bool functions = false;
  bool functionsForbidden = false;
  std::string functionsOff;
};

// Where a node's queries go.
struct AgentTarget {
  std::string baseUrl;     // scheme://host:port[/host/<guid>], no trailing slash
  std::string rootUrl;     // baseUrl without the /host/<guid> of a relayed node (v2/v3 scopes)
  std::string agentKey;    // the agent (scheme://host:port): the concurrency limit's unit
  std::string caFile;
  bool insecure = false;
};

// The node whose node id, machine GUID or hostname (in that order of preference) is `key`.
const NodeFacts* findNode(const std::vector<NodeFacts>& nodes, std::string_view key);

// The agent that answers for `node`: its GUID section's `query url` as is; else its key's
// `query url`, else http://<peer address>:<defaultPort>, followed by /host/<guid> when a parent
// relays the node (hops >= 2). nullopt with `error` when the URL is unusable.
std::optional<AgentTarget> targetFor(const NodeFacts& node, int defaultPort, std::string* error);

}  // namespace aclkd::query
