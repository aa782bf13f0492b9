#pragma once

#include <vector>

#include "claim/claim_inputs.h"
#include "common/config_table.h"

namespace aclkd::daemon {

// The option table of aclkd.conf and claim.conf: one ROW per option, and nothing else to edit
// to add one. The same rows make the OptionSpec table (parsing, validation, --check-config,
// --help, docs/configuration.md) and the typed struct Options below, so code reads
// `options.cloudUrl` and a misspelt option does not compile.
// Columns: typed field, type (OptionType without its k), file, section, name, default, help,
// choices ("a|b" for Enum, else ""), minimum and maximum (Int, else 0 0).
#define ACLKD_DAEMON_OPTIONS(ROW)                                                                 \
  ROW(hostname, String, "aclkd.conf", "global", "hostname", "",                                  \
      "Name of the gateway's own node in the cloud; empty means the system host name.", "", 0, 0) \
  ROW(stateDir, Path, "aclkd.conf", "global", "state dir", "/var/lib/aclkd",                     \
      "Holds cloud.d/ (the identity) and the gateway's machine GUID; a volume in Docker.", "", 0, \
      0)                                                                                          \
  ROW(runDir, Path, "aclkd.conf", "global", "run dir", "/run/aclkd",                             \
      "Holds the control socket aclkd.sock (mode 0660).", "", 0, 0)                               \
  ROW(logLevel, Enum, "aclkd.conf", "global", "log level", "info", "Least severe level logged.", \
      "trace|debug|info|warning|error|critical", 0, 0)                                            \
  ROW(logFile, String, "aclkd.conf", "global", "log file", "",                                   \
      "Also log to this file; empty logs to stderr only. SIGUSR1 reopens it (logrotate).", "", 0, \
      0)                                                                                          \
  ROW(cloudEnabled, Bool, "aclkd.conf", "cloud", "enabled", "yes",                               \
      "Connect to the cloud at all; `no` keeps the gateway local (claiming still works).", "", 0, \
      0)                                                                                          \
  ROW(cloudUrl, Url, "aclkd.conf", "cloud", "url", "",                                           \
      "Cloud base URL for the link; empty uses the URL the gateway was claimed with "            \
      "(cloud.d/cloud.conf), else https://app.netdata.cloud.",                                   \
      "", 0, 0)                                                                                   \
  ROW(cloudProxy, Proxy, "aclkd.conf", "cloud", "proxy", "",                                     \
      "Proxy for the link and for claiming; when set it wins over claim inputs and cloud.conf. " \
      "`env` reads http_proxy, then https_proxy.",                                               \
      "", 0, 0)                                                                                   \
  ROW(cloudInsecure, Bool, "aclkd.conf", "cloud", "insecure", "no",                              \
      "Skip TLS certificate and host name verification (test clouds only).", "", 0, 0)           \
  ROW(cloudCaFile, String, "aclkd.conf", "cloud", "ca file", "",                                 \
      "PEM CA bundle to verify the cloud with (checked at start: readable, parseable); empty "   \
      "uses cloud.d/trusted.pem if present, else the system trust store.",                       \
      "", 0, 0)                                                                                   \
  ROW(outboundQueueLimitMiB, Int, "aclkd.conf", "cloud", "outbound queue limit", "32",           \
      "MiB of messages the link keeps in flight (published, not yet acknowledged); beyond it "   \
      "new messages are dropped and counted.",                                                   \
      "", 1, 4096)                                                                                \
  ROW(inboundMessageLimitKiB, Int, "aclkd.conf", "cloud", "inbound message limit", "16384",      \
      "KiB: a bigger message from the cloud closes the connection (`disconnected, message too "  \
      "big`) and is counted, as the agent does at 16 MiB.",                                      \
      "", 16, 262144)                                                                             \
  ROW(functions, Bool, "aclkd.conf", "cloud", "functions", "yes",                                \
      "Let the cloud call the functions of relayed nodes (Top, Logs, dynamic configuration) "    \
      "down their streams; `no` announces every relayed node without `funcs` and `dyncfg` and "  \
      "answers such calls 403. Per node: stream.conf `allow functions`.",                       \
      "", 0, 0)                                                                                   \
  ROW(queryProxy, Bool, "aclkd.conf", "cloud", "query proxy", "yes",                            \
      "Forward the cloud's queries (cmd requests) for relayed nodes to the agents that hold "    \
      "their metrics; `no` answers them 403. The gateway's own node is always answered.",        \
      "", 0, 0)                                                                                   \
  ROW(queryDefaultPort, Int, "aclkd.conf", "cloud", "query default port", "19999",               \
      "Port of an agent's web API when stream.conf gives no `query url` for it (the address is " \
      "the stream's peer address).",                                                             \
      "", 1, 65535)                                                                               \
  ROW(queryConnectionsPerAgent, Int, "aclkd.conf", "cloud", "query connections per agent", "8",  \
      "Forwarded queries in flight per agent; more wait in line (their timeout still runs).",    \
      "", 1, 1024)                                                                                \
  ROW(queryTimeoutSeconds, Int, "aclkd.conf", "cloud", "query timeout", "60",                    \
      "Seconds a forwarded query may take when the cloud's request carries no `timeout`.",       \
      "", 1, 3600)                                                                                \
  ROW(queryForwardHeaders, String, "aclkd.conf", "cloud", "query forward headers", "",           \
      "Space-separated names of request headers passed from the cloud to agents beyond Accept, " \
      "Accept-Encoding, Accept-Language, Content-Type and User-Agent (e.g. `authorization` for " \
      "agents behind bearer protection); cookies and credentials stay behind by default.",       \
      "", 0, 0)                                                                                   \
  ROW(alertsPollSeconds, Int, "aclkd.conf", "cloud", "alerts poll every", "10",                 \
      "Seconds between two reads of each live node's alert log from its agent (the `query url` " \
      "the query proxy uses), jittered by 10 %; a node is read at once when it connects. 0 "     \
      "relays no node's alerts (their `health` capability stays off).",                         \
      "", 0, 3600)                                                                                \
  ROW(bindTo, String, "aclkd.conf", "web", "bind to", "127.0.0.1:19999",                         \
      "Where Netdata children and parents stream to (Netdata's web port): `address:port` (an "   \
      "IP address, `*` or `localhost`; port 0..65535), optionally `^SSL=optional` (TLS and "     \
      "plain text on one port) or `^SSL=force`, which need ssl certificate and ssl key; empty "  \
      "disables the stream bridge.",                                                             \
      "", 0, 0)                                                                                   \
  ROW(allowStreamingFrom, String, "aclkd.conf", "web", "allow streaming from", "*",              \
      "Simple pattern on the peer IP; streams from other addresses are refused.", "", 0, 0)      \
  ROW(allowConnectionsFrom, String, "aclkd.conf", "web", "allow connections from",               \
      "localhost 127.0.0.1 ::1 ::ffff:127.0.0.1",                                                \
      "Simple pattern on the peer IP for the HTTP API on the same port (/api/v1/aclk, "          \
      "/api/v3/info, /healthz, /metrics); loopback only by default.",                            \
      "", 0, 0)                                                                                   \
  ROW(sslCertificate, String, "aclkd.conf", "web", "ssl certificate", "",                        \
      "PEM certificate (chain) for `^SSL=` in bind to (checked at start: readable, parseable, "  \
      "matching ssl key).",                                                                      \
      "", 0, 0)                                                                                   \
  ROW(sslKey, String, "aclkd.conf", "web", "ssl key", "",                                        \
      "PEM private key (unencrypted) for `^SSL=` in bind to.", "", 0, 0)                          \
  ROW(streamCompression, Bool, "aclkd.conf", "stream", "enable compression", "yes",              \
      "Let children compress their stream (zstd, lz4, brotli or gzip, "                          \
      "docs/protocol/streaming.md §5); the default of stream.conf `enable compression`, as "     \
      "Netdata's [stream] one is.", "", 0, 0)                                                    \
  ROW(streamIoThreads, Int, "aclkd.conf", "stream", "io threads", "0",                           \
      "Event loops (threads) serving plain-text streams; 0 means one per CPU core. A front "    \
      "loop of its own accepts, reads handshakes, answers HTTP and serves TLS streams; each "   \
      "accepted plain-text stream goes to the stream loop with the fewest.",                    \
      "", 0, 256)                                                                                 \
  ROW(streamReadBatchBytes, Int, "aclkd.conf", "stream", "read batch bytes", "16384",            \
      "A plain-text stream wakes the gateway only once this many bytes wait in its socket "     \
      "(SO_RCVLOWAT); what stays below is read at least once a second, so metadata may be up "  \
      "to a second late and no sample is lost. 0 or 1: every chunk is read when it arrives. "   \
      "While a function call is in flight on a stream, its chunks are read at once.",          \
      "", 0, 1048576)                                                                             \
  ROW(streamReceiveBufferBytes, Int, "aclkd.conf", "stream", "receive buffer bytes", "0",        \
      "SO_RCVBUF of the stream port's sockets (children, HTTP); 0: the kernel's autotuning. "   \
      "For fleets of thousands of children at their pace: when they all reconnect, their "      \
      "definitions (~280 KB each) wait in the host's TCP memory, and past net.ipv4.tcp_mem's "  \
      "pressure mark the kernel drops packets of every socket, so a large answer such as "      \
      "/metrics stalls on 200 ms retransmits. The kernel doubles the value; 32768 kept "         \
      "10,000 children under the mark on a 24 GB host (docs/operations.md, \"Many "            \
      "children\"). A small buffer slows a child at full rate: not for a few fast children.",   \
      "", 0, 67108864)                                                                            \
  ROW(ephemeralCleanupSeconds, Int, "aclkd.conf", "stream",                                      \
      "cleanup ephemeral nodes after seconds", "86400",                                          \
      "Nodes marked `is ephemeral node = yes` in stream.conf are forgotten (and reported gone "  \
      "to the cloud) this long after they disconnect.",                                          \
      "", 1, 31536000)                                                                            \
  ROW(claimUrl, Url, "claim.conf", "global", "url", "https://app.netdata.cloud",                 \
      "Cloud to claim the gateway to.", "", 0, 0)                                                 \
  ROW(claimToken, String, "claim.conf", "global", "token", "",                                   \
      "Claim token of the Space; without it claim.conf is skipped as a claim source.", "", 0, 0) \
  ROW(claimRooms, String, "claim.conf", "global", "rooms", "",                                   \
      "Comma-separated room IDs; empty puts the node in the Space's default room.", "", 0, 0)    \
  ROW(claimProxy, Proxy, "claim.conf", "global", "proxy", "env", "Proxy for the claim request.", \
      "", 0, 0)                                                                                   \
  ROW(claimInsecure, Bool, "claim.conf", "global", "insecure", "no",                             \
      "Skip TLS verification for the claim request.", "", 0, 0)

// Every option of aclkd.conf and claim.conf, each with its C++ type. Filled by
// loadDaemonConfig from the validated values, defaults included.
struct Options {
#define ACLKD_OPTION_FIELD(field, kind, ...) OptionValue<OptionType::k##kind>::type field{};
  ACLKD_DAEMON_OPTIONS(ACLKD_OPTION_FIELD)
#undef ACLKD_OPTION_FIELD
};

// The rows above, then the rows other parts own (stream.conf), for --help and the docs.
const std::vector<OptionSpec>& optionTable();

// The typed values of two validated files.
Options typedOptions(const ConfigValues& aclkdConf, const ConfigValues& claimConf);

// claim.conf's part of `options`, for the claim part.
claim::ClaimConf claimConfOf(const Options& options);

}  // namespace aclkd::daemon
