#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_table.h"
#include "stream_bridge/compression/algorithm.h"
#include "stream_bridge/simple_pattern.h"

namespace aclkd::stream_bridge {

// The receiving side of Netdata's stream.conf, as a parent reads it: `[<API key>]` sections and
// `[<machine GUID>]` sections. Like Netdata 1.37, a section is looked up by name in both roles
// (the request's key, then its machine GUID); only the defaults differ.
//
// The options of a section: one ROW each, the only place to edit to add one. The rows make the
// typed fields of StreamSection, the parser's validation (common/config_table, the same code as
// aclkd.conf) and the stream.conf part of --help and docs/configuration.md.
// Columns: typed field, type (OptionType without its k), name, default, help, choices ("a|b"
// for Enum), minimum and maximum (Int). An empty default means "see the help".
#define ACLKD_STREAM_CONF_OPTIONS(ROW)                                                           \
  ROW(enabled, Bool, "enabled", "",                                                              \
      "Accept streams with this API key (default no) or from this machine GUID (default yes).", \
      "", 0, 0)                                                                                  \
  ROW(allowFrom, String, "allow from", "*",                                                      \
      "Simple pattern on the peer IP; empty allows every address.", "", 0, 0)                    \
  ROW(sendChartsMatching, String, "send charts matching", "*",                                   \
      "Simple pattern on chart id or name: which charts' metadata the gateway relays to the "   \
      "cloud; a machine GUID section's value wins over its API key's.",                         \
      "", 0, 0)                                                                                  \
  ROW(ephemeral, Bool, "is ephemeral node", "no",                                                \
      "The node is removed from the cloud `cleanup ephemeral nodes after seconds` after it "    \
      "disconnects.",                                                                            \
      "", 0, 0)                                                                                  \
  ROW(type, Enum, "type", "",                                                                    \
      "Section role in newer Netdata (accepted, not needed). Also accepted and ignored, so a "  \
      "parent's stream.conf works unchanged: history, memory mode, health, proxy and "          \
      "replication options, and the whole `[stream]` section (the child side; aclkd.conf "      \
      "`[stream] enable compression` is the default of `enable compression` here).",            \
      "api|machine", 0, 0)                                                                      \
  ROW(enableCompression, Bool, "enable compression", "",                                         \
      "Let these children compress their stream (default: aclkd.conf [stream] enable "         \
      "compression); `no` makes them stream plain text. A machine GUID section's value wins "   \
      "over its API key's.",                                                                     \
      "", 0, 0)                                                                                  \
  ROW(compressionOrder, String, "compression algorithms order", "zstd lz4 brotli gzip",          \
      "The gateway's preference among what a child offers (zstd, lz4, brotli, gzip, separated " \
      "by spaces; the ones not named follow in the default order, as in Netdata). A machine "   \
      "GUID section's value wins over its API key's.",                                          \
      "", 0, 0)                                                                                  \
  ROW(queryUrl, String, "query url", "",                                                         \
      "Where the cloud's queries for these nodes go (the query proxy): http(s)://host:port[/path]; " \
      "in a machine GUID section the node's own address, in an API key section the streaming "  \
      "agent's (a node it relays, hops >= 2, is asked at <url>/host/<guid>). Empty: the peer's "  \
      "address with [cloud] query default port.",                                               \
      "", 0, 0)                                                                                  \
  ROW(allowQueries, Bool, "allow queries", "yes",                                                \
      "Forward the cloud's queries for these nodes; a machine GUID section's value wins over its " \
      "API key's.",                                                                              \
      "", 0, 0)                                                                                  \
  ROW(allowFunctions, Bool, "allow functions", "yes",                                            \
      "Let the cloud call these nodes' functions (and their dynamic configuration) down their "  \
      "streams; a machine GUID section's value wins over its API key's. `no` announces them "   \
      "without `funcs` and `dyncfg`.",                                                           \
      "", 0, 0)                                                                                  \
  ROW(caFile, String, "ca file", "",                                                             \
      "PEM CA bundle for an https `query url` (default: the system store).", "", 0, 0)           \
  ROW(insecure, Bool, "insecure", "no",                                                          \
      "Skip TLS verification towards an https `query url`.", "", 0, 0)

// One `[<API key>]` or `[<machine GUID>]` section; a field is empty when the file does not set it.
struct StreamSection {
  std::string name;  // the UUID as written, lower-cased
  int line = 0;      // where the section starts, for messages
#define ACLKD_STREAM_CONF_FIELD(field, kind, ...) \
  std::optional<OptionValue<OptionType::k##kind>::type> field;
  ACLKD_STREAM_CONF_OPTIONS(ACLKD_STREAM_CONF_FIELD)
#undef ACLKD_STREAM_CONF_FIELD
};

// The rows above as OptionSpecs of file stream.conf (section "API key or machine GUID").
const std::vector<OptionSpec>& streamConfOptionTable();

// Netdata's verdict on a STREAM request. When refused, `reply` is the exact bytes to send
// (docs/protocol/streaming.md §3.2) and `log` Netdata's log text for it, e.g.
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
  bool allowFunctions = true;  // `allow functions`
  std::string caFile;
  bool insecure = false;
};

class StreamConf {
 public:
  // Parses stream.conf text. Errors (`path:line: message`) for syntax errors, a section name that
  // is not a UUID (other than `stream`), and values the table refuses; unknown options go to
  // `warnings` as `path:line: unknown option 'x' in section [s]`.
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
  // The compressions a child may use, in the gateway's order of preference (Netdata's
  // stream_conf_receiver_config): `enable compression` and `compression algorithms order` of
  // the machine GUID's section, else the API key's, else `enabledByDefault` and the default
  // order. Empty: compression disabled.
  std::vector<Compression> compressionOrder(std::string_view apiKey, std::string_view machineGuid,
                                            bool enabledByDefault) const;

  const std::map<std::string, StreamSection>& sections() const { return sections_; }

 private:
  const StreamSection* find(std::string_view uuid) const;
  std::map<std::string, StreamSection> sections_;
};

// docs/protocol/streaming.md §3.2, byte for byte.
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
