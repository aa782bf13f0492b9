#include "daemon/options.h"

namespace aclkd::daemon {

const std::vector<OptionSpec>& optionTable() {
  using T = OptionType;
  static const std::vector<OptionSpec> table = {
      // aclkd.conf
      {"aclkd.conf", "global", "hostname", T::kString, "",
       "Name of the gateway's own node in the cloud; empty means the system host name."},
      {"aclkd.conf", "global", "state dir", T::kPath, "/var/lib/aclkd",
       "Holds cloud.d/ (the identity) and the gateway's machine GUID; a volume in Docker."},
      {"aclkd.conf", "global", "run dir", T::kPath, "/run/aclkd",
       "Holds the control socket aclkd.sock (mode 0660)."},
      {"aclkd.conf", "global", "log level", T::kEnum, "info", "Least severe level logged.",
       {"trace", "debug", "info", "warning", "error", "critical"}},
      {"aclkd.conf", "global", "log file", T::kString, "",
       "Also log to this file; empty logs to stderr only."},
      {"aclkd.conf", "cloud", "enabled", T::kBool, "yes",
       "Connect to the cloud at all; `no` keeps the gateway local (claiming still works)."},
      {"aclkd.conf", "cloud", "url", T::kUrl, "",
       "Cloud base URL for the link; empty uses the URL the gateway was claimed with "
       "(cloud.d/cloud.conf), else https://app.netdata.cloud."},
      {"aclkd.conf", "cloud", "proxy", T::kProxy, "",
       "Proxy for the link and for claiming; when set it wins over claim inputs and cloud.conf. "
       "`env` reads http_proxy, then https_proxy."},
      {"aclkd.conf", "cloud", "insecure", T::kBool, "no",
       "Skip TLS certificate and host name verification (test clouds only)."},
      {"aclkd.conf", "cloud", "ca file", T::kString, "",
       "PEM CA bundle to verify the cloud with; empty uses cloud.d/trusted.pem if present, else "
       "the system trust store."},
      {"aclkd.conf", "cloud", "outbound queue limit", T::kInt, "32",
       "MiB of messages the link keeps in flight (published, not yet acknowledged); beyond it "
       "new messages are dropped and counted.",
       {}, 1, 4096},
      {"aclkd.conf", "cloud", "inbound message limit", T::kInt, "16384",
       "KiB: a bigger message from the cloud closes the connection (`disconnected, message too "
       "big`), as the agent does at 16 MiB.",
       {}, 16, 262144},
      {"aclkd.conf", "web", "bind to", T::kString, "127.0.0.1:19999",
       "Where Netdata children and parents stream to (Netdata's web port): `address:port`, "
       "optionally `^SSL=optional` (TLS and plain text on one port) or `^SSL=force`; empty "
       "disables the stream bridge."},
      {"aclkd.conf", "web", "allow streaming from", T::kString, "*",
       "Simple pattern on the peer IP; streams from other addresses are refused."},
      {"aclkd.conf", "web", "allow connections from", T::kString,
       "localhost 127.0.0.1 ::1 ::ffff:127.0.0.1",
       "Simple pattern on the peer IP for the HTTP API on the same port (/api/v1/aclk, "
       "/api/v3/info, /healthz, /metrics); loopback only by default."},
      {"aclkd.conf", "web", "ssl certificate", T::kString, "",
       "PEM certificate (chain) for `^SSL=` in bind to."},
      {"aclkd.conf", "web", "ssl key", T::kString, "", "PEM private key for `^SSL=` in bind to."},
      {"aclkd.conf", "stream", "enable compression", T::kBool, "yes",
       "Offer LZ4 to children (stream-protocol §5); `no` makes them stream plain text."},
      {"aclkd.conf", "stream", "cleanup ephemeral nodes after seconds", T::kInt, "86400",
       "Nodes marked `is ephemeral node = yes` in stream.conf are forgotten (and reported gone "
       "to the cloud) this long after they disconnect.",
       {}, 1, 31536000},
      // claim.conf
      {"claim.conf", "global", "url", T::kUrl, "https://app.netdata.cloud",
       "Cloud to claim the gateway to."},
      {"claim.conf", "global", "token", T::kString, "",
       "Claim token of the Space; without it claim.conf is skipped as a claim source."},
      {"claim.conf", "global", "rooms", T::kString, "",
       "Comma-separated room IDs; empty puts the node in the Space's default room."},
      {"claim.conf", "global", "proxy", T::kProxy, "env", "Proxy for the claim request."},
      {"claim.conf", "global", "insecure", T::kBool, "no",
       "Skip TLS verification for the claim request."},
  };
  return table;
}

}  // namespace aclkd::daemon
