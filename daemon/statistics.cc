#include "daemon/statistics.h"

#include <algorithm>

#include "daemon/surface_snapshot.h"
#include "store/state_store.h"
#include "web/web_server.h"

namespace aclkd::daemon {
namespace {

using enum StatisticType;
using stream_bridge::BridgeCounters;
using stream_bridge::NodeRegistry;
using stream_bridge::StreamView;
using web::WebCounters;

// The state store's figures come as one copy (StateStore::stats), not as atomics.
uint64_t storeBatches(const store::StoreStats& s) { return s.batches; }
uint64_t storeRowsWritten(const store::StoreStats& s) { return s.rowsWritten; }
uint64_t storeWriteErrors(const store::StoreStats& s) { return s.writeErrors; }
uint64_t storeRecovered(const store::StoreStats& s) { return s.recovered ? 1 : 0; }

// Why a table of rows with designated initialisers rather than an X-macro list: each row names
// what it has and nothing else, the compiler checks every reader's type (an atomic of the part's
// counters, a getter, a function), and the renderers, the state and the docs iterate the same
// constexpr array. A link counter is named by its key, not read through a pointer: the link's
// state lives under the link's lock and reaches the gateway only as the copy LinkState::fill
// makes (StatisticsTest checks that the keys there and here are the same).
//
// The one declaration of every statistic, in /metrics order (which operators' dashboards and the
// CLI goldens pin: a new statistic goes where its neighbours are, never by reordering). A family
// of several samples is consecutive rows with the same `metric`, its HELP on the first.
constexpr Statistic kStatistics[] = {
    {.metric = "aclkd_link_online", .type = kGauge,
     .help = "1 while the Agent-Cloud Link is connected.",
     .fromSurface = [](const SurfaceSnapshot& s) { return s.state.online ? 1.0 : 0.0; }},
    {.metric = "aclkd_link_banned", .type = kGauge, .help = "1 while the cloud bans the gateway.",
     .fromSurface = [](const SurfaceSnapshot& s) { return s.state.banned ? 1.0 : 0.0; }},
    {.metric = "aclkd_link_reconnects_total", .help = "MQTT connections after the first.",
     .fromSurface =
         [](const SurfaceSnapshot& s) { return static_cast<double>(s.state.reconnectCount); }},
    {.metric = "aclkd_link_connection_attempts_total", .help = "Connection attempts.",
     .stateKey = "connection-attempts"},
    {.metric = "aclkd_link_failed_connection_attempts_total",
     .help = "Failed connection attempts.", .stateKey = "failed-connection-attempts"},
    {.metric = "aclkd_link_publish_latency_seconds", .type = kGauge,
     .help = "Latency of the last PUBACK.",
     .fromSurface =
         [](const SurfaceSnapshot& s) {
           return static_cast<double>(s.state.publishLatencyUs) / 1e6;
         }},
    {.metric = "aclkd_link_pending_pubacks", .type = kGauge,
     .help = "Messages published and not yet acknowledged.",
     .fromSurface =
         [](const SurfaceSnapshot& s) { return static_cast<double>(s.state.pendingPubacks); }},
    {.metric = "aclkd_link_outbound_bytes_in_flight", .type = kGauge,
     .help = "Bytes published, not yet acknowledged.", .stateKey = "outbound-bytes-in-flight"},
    {.metric = "aclkd_link_pubacks_total", .help = "PUBACKs received.",
     .fromSurface =
         [](const SurfaceSnapshot& s) { return static_cast<double>(s.state.receivedPubacks); }},
    {.metric = "aclkd_link_messages_received_total", .help = "Messages received from the cloud.",
     .fromSurface =
         [](const SurfaceSnapshot& s) { return static_cast<double>(s.state.receivedMessages); }},
    {.metric = "aclkd_link_messages_dropped_total", .labels = "reason=\"offline\"",
     .help = "Messages the link did not deliver, by reason.",
     .stateKey = "messages-dropped-offline"},
    {.metric = "aclkd_link_messages_dropped_total", .labels = "reason=\"queue_full\"",
     .stateKey = "messages-dropped-queue-full"},
    {.metric = "aclkd_link_messages_dropped_total", .labels = "reason=\"too_big\"",
     .stateKey = "messages-dropped-too-big"},
    {.metric = "aclkd_link_messages_dropped_total", .labels = "reason=\"puback_timeout\"",
     .fromSurface =
         [](const SurfaceSnapshot& s) { return static_cast<double>(s.state.timedOutPubacks); }},
    {.metric = "aclkd_link_local_pipe_strangers_total",
     .help = "Connections to the link's local MQTT pipe from outside this process, refused.",
     .stateKey = "local-pipe-strangers-refused"},
    {.metric = "aclkd_link_malformed_inbound_total",
     .help = "Cloud messages that did not decode or carried an invalid id (node ids must be "
             "UUIDs).",
     .stateKey = "malformed-inbound-messages"},
    {.metric = "aclkd_link_inbound_too_big_total",
     .help = "Cloud messages over [cloud] inbound message limit (each closes the connection).",
     .stateKey = "inbound-messages-too-big"},
    {.metric = "aclkd_link_publish_failures_total",
     .help = "Publishes that Paho reported as failed (no PUBACK success).",
     .stateKey = "publish-failures"},
    {.metric = "aclkd_link_bans_total", .help = "Times the cloud banned the gateway.",
     .stateKey = "bans"},
    {.metric = "aclkd_link_session_takeovers_total",
     .help = "MQTT sessions the broker gave to another connection with this claimed id.",
     .stateKey = "session-takeovers"},
    {.metric = "aclkd_cloned_identity_suspected", .type = kGauge,
     .help = "1 when this claimed id seems used by another machine too (3 takeovers in 10 "
             "minutes).",
     .stateKey = "cloned-identity-suspected"},
    {.metric = "aclkd_duplicate_guid_streams_total",
     .help = "Streams refused because their machine GUID was already streaming (a cloned child).",
     .stateKey = "duplicate-guid-streams", .fromRegistry = &NodeRegistry::duplicateStreams},
    {.metric = "aclkd_store_batches_total", .help = "Transactions the state store wrote.",
     .stateKey = "store-batches", .fromStore = storeBatches},
    {.metric = "aclkd_store_rows_written_total", .help = "Rows the state store wrote.",
     .stateKey = "store-rows-written", .fromStore = storeRowsWritten},
    {.metric = "aclkd_store_write_errors_total", .help = "State store batches that failed.",
     .stateKey = "store-write-errors", .fromStore = storeWriteErrors},
    {.metric = "aclkd_store_recovered", .type = kGauge,
     .help = "1 when the state store was unreadable at start and moved aside.",
     .stateKey = "store-recovered", .fromStore = storeRecovered},
    {.metric = "aclkd_streams_total", .labels = "outcome=\"accepted\"",
     .help = "Stream connections, by outcome.", .stateKey = "streams-accepted",
     .fromBridge = &BridgeCounters::accepted},
    {.metric = "aclkd_streams_total", .labels = "outcome=\"refused\"",
     .stateKey = "streams-refused", .fromBridge = &BridgeCounters::refused},
    {.metric = "aclkd_streams_total", .labels = "outcome=\"dropped\"",
     .stateKey = "streams-dropped", .fromBridge = &BridgeCounters::dropped},
    {.metric = "aclkd_streams_total", .labels = "outcome=\"over_limit\"",
     .stateKey = "streams-over-connection-limit", .fromBridge = &BridgeCounters::overLimit},
    // Exact even when the per-stream views lack a busy loop's streams (stream-views-late).
    {.metric = "aclkd_streams", .type = kGauge, .help = "Streams connected now.",
     .fromSurface =
         [](const SurfaceSnapshot& s) { return static_cast<double>(s.streamsConnected); }},
    {.metric = "aclkd_web_requests_total",
     .help = "HTTP requests answered on the stream port (errors included).",
     .fromWeb = &WebCounters::requests},
    {.metric = "aclkd_web_dropped_total", .labels = "reason=\"bad_request\"",
     .help = "Web connections of the stream port refused or closed, by reason.",
     .fromWeb = &WebCounters::badRequests},
    {.metric = "aclkd_web_dropped_total", .labels = "reason=\"timeout\"",
     .fromWeb = &WebCounters::timeouts},
    {.metric = "aclkd_web_dropped_total", .labels = "reason=\"live_protocol\"",
     .fromWeb = &WebCounters::liveProtocol},
    {.metric = "aclkd_web_dropped_total", .labels = "reason=\"live_no_pong\"",
     .fromWeb = &WebCounters::liveNoPong},
    {.metric = "aclkd_web_dropped_total", .labels = "reason=\"live_unread\"",
     .fromWeb = &WebCounters::liveUnread},
    {.metric = "aclkd_live_clients", .type = kGauge,
     .help = "Live channel WebSocket clients connected now.",
     .fromWeb = &WebCounters::liveClients},
    {.metric = "aclkd_nodes", .labels = "state=\"live\"", .type = kGauge,
     .help = "Streamed nodes known to the bridge, by liveness.",
     .fromSurface =
         [](const SurfaceSnapshot& s) { return static_cast<double>(s.nodeTotals.live); }},
    {.metric = "aclkd_nodes", .labels = "state=\"stale\"", .type = kGauge,
     .fromSurface =
         [](const SurfaceSnapshot& s) {
           return static_cast<double>(s.nodeTotals.nodes - s.nodeTotals.live);
         }},
    {.metric = "aclkd_contexts", .type = kGauge, .help = "Contexts of all streamed nodes.",
     .fromSurface =
         [](const SurfaceSnapshot& s) { return static_cast<double>(s.nodeTotals.contexts); }},
    {.metric = "aclkd_samples_dropped_total",
     .help = "Metric samples received and dropped (they stay local), all streams since start.",
     .fromBridge = &BridgeCounters::samples},
    {.metric = "aclkd_samples_dropped_per_second", .type = kGauge,
     .help = "Average samples per second dropped, over the connected streams' lifetimes.",
     .fromSurface =
         [](const SurfaceSnapshot& s) {
           double perSecond = 0;
           for (const auto& st : s.streams) perSecond += st.samplesPerSecond;
           for (const auto& loop : s.streamSeries) perSecond += loop->samplesPerSecond;
           return perSecond;
         }},
    {.metric = "aclkd_stream_bytes_received_total",
     .help = "Bytes received on streams (wire bytes, handshakes included), all streams since "
             "start.",
     .fromBridge = &BridgeCounters::wireBytes},
    {.metric = "aclkd_stream_reads_total",
     .help = "Reads that returned stream bytes on streaming connections (a wake-up by the "
             "socket's low-water mark or the batch sweep), all streams since start.",
     .fromBridge = &BridgeCounters::reads},
    {.metric = "aclkd_stream_batch_reads_total",
     .help = "Of aclkd_stream_reads_total, the reads made by the batch sweep: streams that sent "
             "less than [stream] read batch bytes since their last read.",
     .fromBridge = &BridgeCounters::batchReads},
    {.metric = "aclkd_stream_accept_failures_total",
     .help = "Failed accepts on the stream port (out of file descriptors or buffers); each "
             "retried after 100 ms.",
     .fromBridge = &BridgeCounters::acceptFailures},
    {.metric = "aclkd_stream_handshakes_late_total",
     .help = "Stream handshakes still unread in their socket when the handshake timeout fired "
             "(the gateway too busy to read them); each given one more timeout instead of a "
             "drop.",
     .stateKey = "stream-handshakes-late", .fromBridge = &BridgeCounters::handshakesLate},
    {.metric = "aclkd_stream_attach_waits_total",
     .help = "Stream requests for a host whose previous stream was still open (its close not "
             "yet handled: a reconnect storm), accepted after waiting up to 5 s for it instead "
             "of refused as a duplicate.",
     .stateKey = "stream-attach-waits", .fromBridge = &BridgeCounters::attachWaits},
    {.metric = "aclkd_stream_views_late_total",
     .help = "Answers for which a stream loop was too busy to hand over its streams' views in "
             "time (2 s for aclkctl, 5 ms for HTTP): that loop's streams are shown as of its "
             "last answer. aclkd_streams stays exact.",
     .stateKey = "stream-views-late", .fromBridge = &BridgeCounters::viewsLate},
    {.metric = "aclkd_function_results_stray_total",
     .help = "FUNCTION_RESULT blocks from children for no call in flight (late after a timeout "
             "or a cancel), read and dropped.",
     .stateKey = "function-results-stray", .fromBridge = &BridgeCounters::strayFunctionResults},
    {.metric = "aclkd_function_declarations_refused_total",
     .help = "Function declarations dropped because a node declared more than 1024 functions.",
     .stateKey = "function-declarations-refused", .fromRegistry = &NodeRegistry::functionsRefused},
    {.metric = "aclkd_stream_malformed_lines_total",
     .help = "Stream lines with a known keyword and unusable arguments, ignored; all streams "
             "since start.",
     .fromBridge = &BridgeCounters::malformedLines},
    {.metric = "aclkd_stream_bytes_total", .help = "Bytes received, per connected stream.",
     .perStream = &StreamView::wireBytes},
    {.metric = "aclkd_stream_samples_total", .help = "Samples dropped, per connected stream.",
     .perStream = &StreamView::samples},
    // `aclk-state` only: the link's connections (reconnects + 1 in /metrics) and the keepalive
    // PINGREQs the transport sent for Paho.
    {.help = "MQTT connections made.", .stateKey = "connections"},
    {.help = "PINGREQs the transport sent itself (the MQTT client runs without a keepalive).",
     .stateKey = "transport-pingreqs-injected"},
};

std::string_view sourceName(StatisticSource source) {
  switch (source) {
    case StatisticSource::kLink: return "link";
    case StatisticSource::kBridge: return "stream bridge";
    case StatisticSource::kWeb: return "web side";
    case StatisticSource::kRegistry: return "node registry";
    case StatisticSource::kStore: return "state store";
    case StatisticSource::kSurface: return "views";
  }
  return "";
}

}  // namespace

std::span<const Statistic> gatewayStatistics() { return kStatistics; }

StatisticSource sourceOf(const Statistic& stat) {
  if (stat.fromBridge) return StatisticSource::kBridge;
  if (stat.fromWeb) return StatisticSource::kWeb;
  if (stat.fromRegistry) return StatisticSource::kRegistry;
  if (stat.fromStore) return StatisticSource::kStore;
  if (stat.fromSurface || stat.perStream) return StatisticSource::kSurface;
  return StatisticSource::kLink;
}

PartReadings readParts(const PartSources& parts) {
  PartReadings r;
  r.bridgeRunning = parts.bridge != nullptr;
  r.registryRunning = parts.registry != nullptr;
  r.storeOpen = parts.store != nullptr;
  r.values.reserve(std::size(kStatistics));
  for (const auto& stat : kStatistics) {
    uint64_t value = 0;
    if (stat.fromBridge && parts.bridge) value = (parts.bridge->*stat.fromBridge).load();
    if (stat.fromWeb && parts.web) value = (parts.web->*stat.fromWeb).load();
    if (stat.fromRegistry && parts.registry) value = (parts.registry->*stat.fromRegistry)();
    if (stat.fromStore && parts.store) value = stat.fromStore(*parts.store);
    r.values.push_back(value);
  }
  return r;
}

void addPartCounters(const PartReadings& parts, aclk::AclkStateView* view) {
  const std::pair<StatisticSource, bool> running[] = {
      {StatisticSource::kBridge, parts.bridgeRunning},
      {StatisticSource::kRegistry, parts.registryRunning},
      {StatisticSource::kStore, parts.storeOpen}};
  for (const auto& [source, on] : running) {
    if (!on) continue;
    for (size_t row = 0; row < std::size(kStatistics); ++row) {
      const auto& stat = kStatistics[row];
      if (sourceOf(stat) == source && !stat.stateKey.empty()) {
        view->counters.emplace_back(std::string(stat.stateKey),
                                    row < parts.values.size() ? parts.values[row] : 0);
      }
    }
  }
}

double statisticValue(size_t row, const SurfaceSnapshot& s) {
  const auto& stat = kStatistics[row];
  if (!stat.stateKey.empty()) {
    for (const auto& [key, value] : s.state.counters) {
      if (key == stat.stateKey) return static_cast<double>(value);
    }
    return 0;
  }
  if (stat.fromSurface) return stat.fromSurface(s);
  return row < s.parts.values.size() ? static_cast<double>(s.parts.values[row]) : 0;
}

std::string renderStatisticsMarkdown() {
  std::string out =
      "| /metrics | type | `aclk-state` counter | from | meaning |\n|---|---|---|---|---|\n";
  for (const auto& stat : kStatistics) {
    std::string metric;
    if (!stat.metric.empty()) {
      metric = "`" + std::string(stat.metric);
      if (!stat.labels.empty()) metric += "{" + std::string(stat.labels) + "}";
      if (stat.perStream) metric += "{machine_guid, hostname}";
      metric += "`";
    }
    std::string help(stat.help);
    for (size_t at = 0; (at = help.find('|', at)) != std::string::npos; at += 2) {
      help.insert(at, "\\");
    }
    out += "| " + (metric.empty() ? std::string("—") : metric) + " | " +
           (stat.type == kGauge ? "gauge" : "counter") + " | " +
           (stat.stateKey.empty() ? std::string("—") : "`" + std::string(stat.stateKey) + "`") +
           " | " + std::string(sourceName(sourceOf(stat))) + " | " +
           (help.empty() ? "(the family above)" : help) + " |\n";
  }
  return out;
}

}  // namespace aclkd::daemon
