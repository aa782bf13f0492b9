#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stream_bridge/simple_pattern.h"

namespace aclkd::stream_bridge {

// The receiving side of Netdata's stream.conf, as a parent reads it: `[<API key>]` sections and
// `[<machine GUID>]` sections. Like Netdata 1.37, a section is looked up by name in both roles
// (the request's key, then its machine GUID); only the defaults differ. Options per section:
//   enabled                      API key: default no; machine GUID: default yes
//   allow from                   simple pattern on the peer IP (text), default `*`, empty = all
//   send charts matching         simple pattern on chart id or name: which charts' metadata the
//                                gateway relays to the cloud (default `*`); a machine GUID
//                                section's value wins over its API key's
//   is ephemeral node            yes/no (default no): the node is removed from the cloud after
//                                `cleanup ephemeral nodes after seconds` once it disconnects
//   type                         `api` or `machine` (newer Netdata; accepted, not needed)
//   query url                    where the cloud's queries for these nodes go (the query proxy):
//                                http(s)://host:port[/path]; in a machine GUID section the node's
//                                own address, in an API key section the streaming agent's (a node
//                                it relays, hops >= 2, is asked at <url>/host/<guid>)
//   allow queries                yes/no (default yes): forward the cloud's queries for these
//                                nodes; a machine GUID section's value wins over its API key's
//   ca file, insecure            TLS towards an https `query url`: a PEM CA bundle (default: the
//                                system store) and yes/no to skip verification (default no)
// Accepted and ignored, so that a parent's stream.conf can be used unchanged (logged once at
// info): default history, default memory mode, health enabled by default, default postpone alarms
// on connect seconds, postpone alarms on connect seconds, history, memory mode, health enabled,
// multiple connections, default proxy enabled, default proxy destination, default proxy api key,
// default proxy send charts matching, proxy enabled, proxy destination, proxy api key, proxy send
// charts matching, replication period, replication step, db, retention, update every,
// seconds to replicate, replication_step, enable compression, default enable compression.
// A `[stream]` section (the child side of stream.conf) is accepted and ignored as a whole.
// Global options of the receiver live in aclkd.conf, not here.
struct StreamSection {
  std::string name;  // the UUID as written, lower-cased
  std::optional<bool> enabled;
  std::optional<std::string> allowFrom;
  std::optional<std::string> sendChartsMatching;
  std::optional<bool> ephemeral;
  std::string type;  // "", "api" or "machine"
  std::optional<std::string> queryUrl;
  std::optional<bool> allowQueries;
  std::optional<std::string> caFile;
  std::optional<bool> insecure;
  int line = 0;      // where the section starts, for messages
};

// Netdata's verdict on a STREAM request. When refused, `reply` is the exact bytes to send
// (stream-protocol.md §3.2) and `log` Netdata's log text for it, e.g.
//   API key '%s' is not valid GUID (use the command uuidgen to generate one). Forbidding access.
//   machine GUID '%s' is not GUID.
//   API key '%s' is not allowed. Forbidding access.
//   API key '%s' is not permitted from this IP '%s'. Forbidding access.
//   machine GUID '%s' is not allowed. Forbidding access.
//   Machine GUID '%s' is not permitted from this IP '%s'. Forbidding access.
struct AccessDecision {
  bool allowed = false;
  std::string reply;
  std::string log;
};

// What the bridge applies to one accepted host.
struct HostPolicy {
  SimplePattern sendChartsMatching;  // default `*`
  bool ephemeral = false;
};

// The query proxy's settings for one node.
struct QuerySettings {
  std::string guidQueryUrl;  // `query url` of the machine GUID section
  std::string keyQueryUrl;   // `query url` of the API key section
  bool allowQueries = true;
  std::string caFile;
  bool insecure = false;
};

class StreamConf {
 public:
  // Parses stream.conf text. Errors (`path:line: message`) for syntax errors, a section name that
  // is not a UUID (other than `stream`), and bad values (booleans: yes/no/true/false/on/off/1/0);
  // unknown options go to `warnings` as `path:line: unknown option 'x' in section [s]`.
  static std::optional<StreamConf> parse(std::string_view text, const std::string& path,
                                         std::vector<std::string>* warnings,
                                         std::vector<std::string>* errors);
  // Reads `path`; a missing file is an empty configuration (every key refused).
  static std::optional<StreamConf> load(const std::string& path,
                                        std::vector<std::string>* warnings,
                                        std::vector<std::string>* errors);

  // Checks in Netdata 1.37's order: key is a UUID, machine GUID is a UUID, key enabled, key allow
  // from, machine GUID enabled, machine GUID allow from.
  AccessDecision check(std::string_view apiKey, std::string_view machineGuid,
                       std::string_view peerIp) const;
  HostPolicy policy(std::string_view apiKey, std::string_view machineGuid) const;
  QuerySettings querySettings(std::string_view apiKey, std::string_view machineGuid) const;

  const std::map<std::string, StreamSection>& sections() const { return sections_; }

 private:
  const StreamSection* find(std::string_view uuid) const;
  std::map<std::string, StreamSection> sections_;
};

// stream-protocol.md §3.2, byte for byte.
inline constexpr std::string_view kReplyNotPermitted =
    "You are not permitted to access this. Check the logs for more info.";
inline constexpr std::string_view kReplyAlreadyStreaming =
    "This GUID is already streaming to this server";
inline constexpr std::string_view kReplyLocalhost =
    "Don't hit me baby, you are trying to stream my localhost back";
inline constexpr std::string_view kReplyTooBusy =
    "The server is too busy now to accept this request. Try later.";
inline constexpr std::string_view kReplyInternalError =
    "The server encountered an internal error. Try later.";
inline constexpr std::string_view kReplyInitializing = "The server is initializing. Try later.";

}  // namespace aclkd::stream_bridge
