#include "daemon/local_api.h"

#include <nlohmann/json.hpp>

#include <cctype>

#include "common/untrusted_text.h"
#include "daemon/status_page.h"
#include "stream_bridge/stream_path.h"

namespace aclkd::daemon {
namespace {

using nlohmann::ordered_json;

// The `cloud` object, in the brief's key order. `banned` would repeat `url` in Netdata (a
// duplicate key); one `url` is emitted here because a JSON object cannot hold two.
ordered_json cloudObject(const SurfaceSnapshot& s) {
  const auto& v = s.state;
  ordered_json c;
  c["id"] = v.reconnectCount + (v.lastConnect ? 1 : 0);
  c["status"] = v.cloudStatus;
  std::time_t since = s.started;
  if (v.lastConnect) since = *v.lastConnect;
  if (v.lastDisconnect && *v.lastDisconnect > since) since = *v.lastDisconnect;
  c["since"] = since;
  c["age"] = s.now - since;
  if (v.cloudStatus != "available" && v.claimedId) c["claim_id"] = *v.claimedId;
  if (v.cloudStatus == "available") {
    c["url"] = s.configuredUrl;
  } else {
    c["url"] = v.cloudUrl ? ordered_json(*v.cloudUrl) : ordered_json(nullptr);
  }
  if (v.cloudStatus == "available") {
    c["reason"] = v.cloudReason.empty() ? "Agent is not claimed yet" : v.cloudReason;
  } else {
    c["reason"] = v.cloudReason;
  }
  if (v.cloudStatus == "offline" && v.nextConnectionAttempt && *v.nextConnectionAttempt > s.now) {
    c["next_check"] = *v.nextConnectionAttempt;
    c["next_in"] = *v.nextConnectionAttempt - s.now;
  }
  return c;
}

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const char* name, double value, const std::string& labels = "") {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.17g\n", value);
    out_ += buf;
  }
  void one(const char* name, const char* type, const char* help, double value) {
    family(name, type, help);
    sample(name, value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

uint64_t counter(const aclk::AclkStateView& v, const char* name) {
  for (const auto& [k, n] : v.counters) {
    if (k == name) return n;
  }
  return 0;
}

}  // namespace

std::string renderInfoJson(const SurfaceSnapshot& s) {
  ordered_json agent;
  agent["mg"] = s.machineGuid;
  std::optional<std::string> nodeId;
  for (const auto& n : s.state.nodes) {
    if (n.self) nodeId = n.nodeId;
  }
  agent["nd"] = nodeId ? ordered_json(*nodeId) : ordered_json(nullptr);
  agent["nm"] = s.hostname;
  agent["now"] = s.now;
  agent["ai"] = 0;
  agent["application"] = {{"package", {{"version", s.version}, {"type", "aclkd"}}}};
  agent["cloud"] = cloudObject(s);
  size_t live = 0;
  size_t contexts = 0;
  for (const auto& n : s.nodes) {
    live += n.live ? 1 : 0;
    contexts += n.contexts;
  }
  agent["nodes"] = {{"total", s.nodes.size() + 1}, {"receiving", live}, {"sending", 0},
                    {"archived", s.nodes.size() - live}};
  agent["contexts"] = {{"collected", contexts}};
  // The gateway's own addition: which relayed nodes the cloud can call functions of, and how
  // many each declared (Netdata's info has no per-node list; `aclkctl nodes` says why not).
  ordered_json functionNodes = ordered_json::array();
  size_t callable = 0;
  for (const auto& n : s.nodes) {
    callable += n.functionsCallable ? 1 : 0;
    if (!n.live) continue;
    functionNodes.push_back({{"mg", n.machineGuid}, {"nm", n.hostname}, {"count", n.functions},
                             {"funcs", n.functionsCallable}, {"dyncfg", n.dyncfg}});
  }
  agent["functions"] = {{"callable_nodes", callable}, {"nodes", std::move(functionNodes)}};
  agent["api"] = {{"version", 7}, {"bearer_protection", false}};
  ordered_json out;
  out["agents"] = ordered_json::array({agent});
  return out.dump();
}

std::string renderHealthJson(const SurfaceSnapshot& s) {
  ordered_json j;
  j["status"] = "ok";
  j["link"] = s.state.aclkStatus;
  j["cloud"] = s.state.cloudStatus;
  j["online"] = s.state.online;
  j["streams"] = s.streamsConnected;
  return j.dump();
}

std::string renderMetrics(const SurfaceSnapshot& s) {
  const auto& v = s.state;
  Exposition e;
  e.one("aclkd_link_online", "gauge", "1 while the Agent-Cloud Link is connected.",
        v.online ? 1 : 0);
  e.one("aclkd_link_banned", "gauge", "1 while the cloud bans the gateway.", v.banned ? 1 : 0);
  e.one("aclkd_link_reconnects_total", "counter", "MQTT connections after the first.",
        static_cast<double>(v.reconnectCount));
  e.one("aclkd_link_connection_attempts_total", "counter", "Connection attempts.",
        static_cast<double>(counter(v, "connection-attempts")));
  e.one("aclkd_link_failed_connection_attempts_total", "counter", "Failed connection attempts.",
        static_cast<double>(counter(v, "failed-connection-attempts")));
  e.one("aclkd_link_publish_latency_seconds", "gauge", "Latency of the last PUBACK.",
        static_cast<double>(v.publishLatencyUs) / 1e6);
  e.one("aclkd_link_pending_pubacks", "gauge", "Messages published and not yet acknowledged.",
        static_cast<double>(v.pendingPubacks));
  e.one("aclkd_link_outbound_bytes_in_flight", "gauge", "Bytes published, not yet acknowledged.",
        static_cast<double>(counter(v, "outbound-bytes-in-flight")));
  e.one("aclkd_link_pubacks_total", "counter", "PUBACKs received.",
        static_cast<double>(v.receivedPubacks));
  e.one("aclkd_link_messages_received_total", "counter", "Messages received from the cloud.",
        static_cast<double>(v.receivedMessages));
  e.family("aclkd_link_messages_dropped_total", "counter",
           "Messages the link did not deliver, by reason.");
  e.sample("aclkd_link_messages_dropped_total",
           static_cast<double>(counter(v, "messages-dropped-offline")), "reason=\"offline\"");
  e.sample("aclkd_link_messages_dropped_total",
           static_cast<double>(counter(v, "messages-dropped-queue-full")), "reason=\"queue_full\"");
  e.sample("aclkd_link_messages_dropped_total",
           static_cast<double>(counter(v, "messages-dropped-too-big")), "reason=\"too_big\"");
  e.sample("aclkd_link_messages_dropped_total", static_cast<double>(v.timedOutPubacks),
           "reason=\"puback_timeout\"");
  e.one("aclkd_link_local_pipe_strangers_total", "counter",
        "Connections to the link's local MQTT pipe from outside this process, refused.",
        static_cast<double>(counter(v, "local-pipe-strangers-refused")));
  e.one("aclkd_link_malformed_inbound_total", "counter",
        "Cloud messages that did not decode or carried an invalid id (node ids must be UUIDs).",
        static_cast<double>(counter(v, "malformed-inbound-messages")));
  e.one("aclkd_link_inbound_too_big_total", "counter",
        "Cloud messages over [cloud] inbound message limit (each closes the connection).",
        static_cast<double>(counter(v, "inbound-messages-too-big")));
  e.one("aclkd_link_publish_failures_total", "counter",
        "Publishes that Paho reported as failed (no PUBACK success).",
        static_cast<double>(counter(v, "publish-failures")));
  e.one("aclkd_link_bans_total", "counter", "Times the cloud banned the gateway.",
        static_cast<double>(counter(v, "bans")));
  e.one("aclkd_link_session_takeovers_total", "counter",
        "MQTT sessions the broker gave to another connection with this claimed id.",
        static_cast<double>(counter(v, "session-takeovers")));
  e.one("aclkd_cloned_identity_suspected", "gauge",
        "1 when this claimed id seems used by another machine too (3 takeovers in 10 minutes).",
        static_cast<double>(counter(v, "cloned-identity-suspected")));
  e.one("aclkd_duplicate_guid_streams_total", "counter",
        "Streams refused because their machine GUID was already streaming (a cloned child).",
        static_cast<double>(counter(v, "duplicate-guid-streams")));
  e.one("aclkd_store_batches_total", "counter", "Transactions the state store wrote.",
        static_cast<double>(counter(v, "store-batches")));
  e.one("aclkd_store_rows_written_total", "counter", "Rows the state store wrote.",
        static_cast<double>(counter(v, "store-rows-written")));
  e.one("aclkd_store_write_errors_total", "counter", "State store batches that failed.",
        static_cast<double>(counter(v, "store-write-errors")));
  e.one("aclkd_store_recovered", "gauge",
        "1 when the state store was unreadable at start and moved aside.",
        static_cast<double>(counter(v, "store-recovered")));
  e.family("aclkd_streams_total", "counter", "Stream connections, by outcome.");
  e.sample("aclkd_streams_total", static_cast<double>(s.streamsAccepted), "outcome=\"accepted\"");
  e.sample("aclkd_streams_total", static_cast<double>(s.streamsRefused), "outcome=\"refused\"");
  e.sample("aclkd_streams_total", static_cast<double>(s.streamsDropped), "outcome=\"dropped\"");
  e.sample("aclkd_streams_total", static_cast<double>(s.streamsOverLimit),
           "outcome=\"over_limit\"");
  e.one("aclkd_streams", "gauge", "Streams connected now.",
        static_cast<double>(s.streamsConnected));
  e.one("aclkd_web_requests_total", "counter",
        "HTTP requests answered on the stream port (errors included).",
        static_cast<double>(s.webRequests));
  e.family("aclkd_web_dropped_total", "counter",
           "Web connections of the stream port refused or closed, by reason.");
  e.sample("aclkd_web_dropped_total", static_cast<double>(s.webBadRequests),
           "reason=\"bad_request\"");
  e.sample("aclkd_web_dropped_total", static_cast<double>(s.webTimeouts), "reason=\"timeout\"");
  e.sample("aclkd_web_dropped_total", static_cast<double>(s.liveProtocolErrors),
           "reason=\"live_protocol\"");
  e.sample("aclkd_web_dropped_total", static_cast<double>(s.liveNoPong),
           "reason=\"live_no_pong\"");
  e.sample("aclkd_web_dropped_total", static_cast<double>(s.liveUnread),
           "reason=\"live_unread\"");
  e.one("aclkd_live_clients", "gauge", "Live channel WebSocket clients connected now.",
        static_cast<double>(s.liveClients));
  size_t live = 0;
  size_t contexts = 0;
  for (const auto& n : s.nodes) {
    live += n.live ? 1 : 0;
    contexts += n.contexts;
  }
  e.family("aclkd_nodes", "gauge", "Streamed nodes known to the bridge, by liveness.");
  e.sample("aclkd_nodes", static_cast<double>(live), "state=\"live\"");
  e.sample("aclkd_nodes", static_cast<double>(s.nodes.size() - live), "state=\"stale\"");
  e.one("aclkd_contexts", "gauge", "Contexts of all streamed nodes.", static_cast<double>(contexts));
  double samplesPerSecond = 0;
  for (const auto& st : s.streams) samplesPerSecond += st.samplesPerSecond;
  e.one("aclkd_samples_dropped_total", "counter",
        "Metric samples received and dropped (they stay local), all streams since start.",
        static_cast<double>(s.samplesTotal));
  e.one("aclkd_samples_dropped_per_second", "gauge",
        "Average samples per second dropped, over the connected streams' lifetimes.",
        samplesPerSecond);
  e.one("aclkd_stream_bytes_received_total", "counter",
        "Bytes received on streams (wire bytes, handshakes included), all streams since start.",
        static_cast<double>(s.streamBytesTotal));
  e.one("aclkd_stream_accept_failures_total", "counter",
        "Failed accepts on the stream port (out of file descriptors or buffers); each retried "
        "after 100 ms.",
        static_cast<double>(s.streamAcceptFailures));
  e.one("aclkd_stream_handshakes_late_total", "counter",
        "Stream handshakes still unread in their socket when the handshake timeout fired (the "
        "gateway too busy to read them); each given one more timeout instead of a drop.",
        static_cast<double>(s.streamHandshakesLate));
  e.one("aclkd_stream_views_late_total", "counter",
        "Answers that lacked some streams' views: an I/O loop did not hand them over within 2 s "
        "(busy). The per-stream families of such an answer are incomplete; aclkd_streams is not.",
        static_cast<double>(s.streamViewsLate));
  e.one("aclkd_function_results_stray_total", "counter",
        "FUNCTION_RESULT blocks from children for no call in flight (late after a timeout or a "
        "cancel), read and dropped.",
        static_cast<double>(s.functionResultsStray));
  e.one("aclkd_function_declarations_refused_total", "counter",
        "Function declarations dropped because a node declared more than 1024 functions.",
        static_cast<double>(s.functionDeclarationsRefused));
  e.one("aclkd_stream_malformed_lines_total", "counter",
        "Stream lines with a known keyword and unusable arguments, ignored; all streams since "
        "start.",
        static_cast<double>(s.malformedLinesTotal));
  e.family("aclkd_stream_bytes_total", "counter", "Bytes received, per connected stream.");
  for (const auto& st : s.streams) {
    e.sample("aclkd_stream_bytes_total", static_cast<double>(st.wireBytes),
             "machine_guid=\"" + escapeLabel(st.machineGuid) + "\",hostname=\"" +
                 escapeLabel(st.hostname) + "\"");
  }
  e.family("aclkd_stream_samples_total", "counter", "Samples dropped, per connected stream.");
  for (const auto& st : s.streams) {
    e.sample("aclkd_stream_samples_total", static_cast<double>(st.samples),
             "machine_guid=\"" + escapeLabel(st.machineGuid) + "\",hostname=\"" +
                 escapeLabel(st.hostname) + "\"");
  }
  return e.take() + s.queryMetrics + s.alertMetrics;
}

namespace {

struct Route {
  std::string_view path;
  std::string_view contentType;
  // kPage: the status page, with the state once ready (never 503: it says it is starting);
  // kState: 503 while starting.
  enum Shows { kPage, kState, kStateAndStreams } shows;
  std::string (*render)(const SurfaceSnapshot&);  // not for kPage: renderStatusPage
};

constexpr std::string_view kJson = "application/json";

const Route kRoutes[] = {
    {"/", "text/html; charset=utf-8", Route::kPage, nullptr},
    {"/index.html", "text/html; charset=utf-8", Route::kPage, nullptr},
    {"/api/v1/aclk", kJson, Route::kState,
     [](const SurfaceSnapshot& s) { return aclk::renderAclkStateJson(s.state); }},
    {"/api/v3/info", kJson, Route::kState, renderInfoJson},
    {"/healthz", kJson, Route::kState, renderHealthJson},
    {"/metrics", "text/plain; version=0.0.4; charset=utf-8", Route::kStateAndStreams,
     renderMetrics},
};

}  // namespace

aclk::LocalHttpResponse routeHttp(const std::string& method, const std::string& target,
                                  bool ready,
                                  const std::function<SurfaceSnapshot(bool withStreams)>& snapshot) {
  aclk::LocalHttpResponse r;
  const std::string bare = target.substr(0, target.find('?'));
  if (method != "GET") {
    r.code = 405;
    r.body = R"({"error":"only GET"})";
    return r;
  }
  for (const auto& route : kRoutes) {
    if (route.path != bare) continue;
    if (route.shows != Route::kPage && !ready) {
      r.code = 503;
      r.body = R"({"error":"aclkd is starting"})";
      return r;
    }
    r.contentType = std::string(route.contentType);
    if (route.shows == Route::kPage) {
      // Without the stream views: the page's tables need none, and a page load must not wait on
      // a busy stream loop (the script gets the streams from the live channel).
      r.body = renderStatusPage(ready ? snapshot(false) : SurfaceSnapshot{}, ready);
      return r;
    }
    r.body = route.render(snapshot(route.shows == Route::kStateAndStreams));
    return r;
  }
  r.code = 404;
  r.body = "{\"error\":\"no such API path on this gateway\",\"path\":" +
           // The client's bytes, not always UTF-8: replaced (U+FFFD) rather than thrown on.
           nlohmann::json(bare).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "}";
  return r;
}

std::string nodeJson(const stream_bridge::NodeView& n) {
  ordered_json j;
  j["machine-guid"] = n.machineGuid;
  j["hostname"] = n.hostname;
  j["version"] = n.version;
  j["os"] = n.os;
  j["hops"] = n.hops;
  j["live"] = n.live;
  j["restored"] = n.restored;
  j["node-id"] = n.nodeId;
  j["ephemeral"] = n.ephemeral;
  j["peer"] = n.peer;
  j["connected-since"] = n.connectedSince ? aclk::formatUtc(n.connectedSince) : "";
  j["disconnected-at"] = n.disconnectedAt ? aclk::formatUtc(n.disconnectedAt) : "";
  j["charts"] = n.charts;
  j["relayed-charts"] = n.relayedCharts;
  j["dimensions"] = n.dimensions;
  j["contexts"] = n.contexts;
  j["host-labels"] = n.hostLabels;
  j["chart-labels"] = n.chartLabels;
  j["contexts-version-hash"] = n.contextsVersionHash;
  // Functions: how many the stream declared; `funcs` and `dyncfg` as announced to the cloud,
  // and why one is off.
  j["functions"] = n.functions;
  j["funcs"] = n.functionsCallable;
  j["funcs-off"] = n.functionsOff;
  j["dyncfg"] = n.dyncfg;
  j["dyncfg-off"] = n.dyncfgOff;
  return j.dump();
}

std::string nodeJson(const stream_bridge::NodeView& n, const NodeExtras& extras) {
  const std::string added = extras ? extras(n.machineGuid) : std::string();
  if (added.empty()) return nodeJson(n);
  auto j = ordered_json::parse(nodeJson(n));
  const auto fields = ordered_json::parse(added, nullptr, false);
  if (fields.is_object()) j.update(fields);
  return j.dump();
}

std::string streamJson(const stream_bridge::StreamView& s) {
  ordered_json j;
  j["peer"] = s.peer;
  j["machine-guid"] = s.machineGuid;
  j["hostname"] = s.hostname;
  j["hops"] = s.hops;
  j["tls"] = s.tls;
  j["compressed"] = s.compression != "none";
  j["compression"] = s.compression;
  // By name, as Netdata logs them, joined by commas so that the text table keeps one word per
  // column; the bits too.
  std::string names;
  for (const auto& name : stream_bridge::capabilityNames(s.capabilities)) {
    names += (names.empty() ? "" : ",") + name;
  }
  j["capabilities"] = names;
  j["capabilities-bits"] = s.capabilities;
  j["since"] = aclk::formatUtc(s.since);
  j["wire-bytes"] = s.wireBytes;
  j["text-bytes"] = s.textBytes;
  j["lines"] = s.lines;
  j["samples"] = s.samples;
  j["malformed-lines"] = s.malformedLines;
  // Rounded: a push goes out when the JSON changes, and a rate with all its decimals always does.
  j["samples-per-second"] = static_cast<int64_t>(s.samplesPerSecond + 0.5);
  return j.dump();
}

namespace {

std::string channelNameError(const std::string& channel) {
  constexpr size_t kMaxChannel = 160;
  if (channel.empty()) return "channel name is empty";
  if (channel.size() > kMaxChannel) {
    return "channel name has " + std::to_string(channel.size()) + " characters; at most 160";
  }
  for (const char c : channel) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                    c == '=' || c == '.' || c == '/';
    // Escaped: one byte of a multi-byte character is not UTF-8, and the message goes into JSON.
    if (!ok) {
      return "channel name has the character '" + escapeUntrusted(std::string_view(&c, 1)) +
             "'; allowed are A-Z a-z 0-9 _ - = . and /";
    }
  }
  if (channel.front() == '/' || channel.back() == '/' ||
      channel.find("//") != std::string::npos) {
    return "channel name has an empty segment; expected scope/namespace[/path]";
  }
  if (channel.find('/') == std::string::npos) {
    return "channel name has no namespace; expected scope/namespace[/path]";
  }
  return "";
}

}  // namespace

std::optional<std::string> renderChannel(const std::string& channel, const SurfaceSnapshot& s,
                                         std::string* error) {
  if (auto e = channelNameError(channel); !e.empty()) {
    *error = e;
    return std::nullopt;
  }
  const auto slash = channel.find('/');
  const std::string scope = channel.substr(0, slash);
  const std::string rest = channel.substr(slash + 1);
  if (scope == "aclk") {
    if (rest != "status") {
      *error = "unknown channel '" + channel + "'; the aclk scope has aclk/status and " +
               std::string(kHistoryChannel);
      return std::nullopt;
    }
    ordered_json j;
    j["state"] = ordered_json::parse(aclk::renderAclkStateJson(s.state));
    j["nodes"] = ordered_json::array();
    for (const auto& n : s.nodes) j["nodes"].push_back(ordered_json::parse(nodeJson(n, s.nodeExtras)));
    j["streams"] = ordered_json::array();
    for (const auto& st : s.streams) j["streams"].push_back(ordered_json::parse(streamJson(st)));
    return j.dump();
  }
  if (scope == "nodes" || scope == "streams") {
    if (rest.find('/') != std::string::npos || rest.size() != 36) {
      *error = "channel '" + channel + "': expected " + scope + "/<machine_guid>";
      return std::nullopt;
    }
    if (scope == "nodes") {
      for (const auto& n : s.nodes) {
        if (n.machineGuid == rest) return nodeJson(n, s.nodeExtras);
      }
      *error = "no node with machine GUID " + rest;
      return std::nullopt;
    }
    for (const auto& st : s.streams) {
      if (st.machineGuid == rest) return streamJson(st);
    }
    return std::string(R"({"connected":false})");
  }
  *error = "unknown scope '" + scope + "'; the scopes are aclk, nodes and streams";
  return std::nullopt;
}

}  // namespace aclkd::daemon
