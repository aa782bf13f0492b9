#include "aclk/messages.h"

#include <chrono>

#include "common/untrusted_text.h"
#include "common/uuid.h"

#include <google/protobuf/timestamp.pb.h>

#include "aclk_lib/v1/lib.pb.h"
#include "agent/v1/cmds.pb.h"
#include "agent/v1/connection.pb.h"
#include "alarms/v1/alarm.pb.h"
#include "context/v1/context.pb.h"
#include "nodeinstance/connection/v1/connection.pb.h"
#include "nodeinstance/create/v1/creation.pb.h"
#include "nodeinstance/info/v1/info.pb.h"

namespace aclkd::aclk {

int64_t unixTimeUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

void setTimestamp(google::protobuf::Timestamp* ts, int64_t nowUs) {
  ts->set_seconds(nowUs / 1000000);
  ts->set_nanos(static_cast<int32_t>((nowUs % 1000000) * 1000));
}

template <typename Repeated>
void addCapabilities(Repeated* out, const std::vector<CapabilityValue>& caps) {
  for (const auto& c : caps) {
    auto* cap = out->Add();
    cap->set_name(c.name);
    cap->set_version(c.version);
    cap->set_enabled(c.enabled);
  }
}

void fillContext(context::v1::ContextUpdated* out, const ContextRecord& c) {
  out->set_id(c.id);
  out->set_version(c.version);
  out->set_first_entry(c.firstEntry);
  out->set_last_entry(c.lastEntry);
  out->set_deleted(c.deleted);
  out->set_title(c.title);
  out->set_priority(c.priority);
  out->set_chart_type(c.chartType);
  out->set_units(c.units);
  out->set_family(c.family);
}

template <typename Message>
bool parseInto(Message* m, std::string_view payload) {
  return m->ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

}  // namespace

std::string encodeUpdateAgentConnection(const std::string& claimId, bool reachable,
                                        int64_t sessionId, bool lwt, int64_t nowUs,
                                        const NodeFeatures& gateway) {
  agent::v1::UpdateAgentConnection m;
  m.set_claim_id(claimId);
  m.set_reachable(reachable);
  m.set_session_id(sessionId);
  m.set_update_source(lwt ? agent::v1::CONNECTION_UPDATE_SOURCE_LWT
                          : agent::v1::CONNECTION_UPDATE_SOURCE_AGENT);
  setTimestamp(m.mutable_updated_at(), nowUs);
  if (!lwt) {  // the will carries no capabilities (docs/protocol/aclk.md §5.4)
    addCapabilities(m.mutable_capabilities(), agentCapabilities(gateway));
  }
  return m.SerializeAsString();
}

std::string encodeCreateNodeInstance(const std::string& claimId, const std::string& machineGuid,
                                     const std::string& hostname, int hops) {
  nodeinstance::create::v1::CreateNodeInstance m;
  m.set_claim_id(claimId);
  m.set_machine_guid(machineGuid);
  m.set_hostname(hostname);
  m.set_hops(hops);
  return m.SerializeAsString();
}

std::string encodeUpdateNodeInstanceConnection(const std::string& claimId,
                                               const std::string& nodeId, bool liveness,
                                               int64_t sessionId, int hops,
                                               const NodeFeatures& features, int64_t nowUs,
                                               bool queryable) {
  nodeinstance::v1::UpdateNodeInstanceConnection m;
  m.set_claim_id(claimId);
  m.set_node_id(nodeId);
  m.set_liveness(liveness);
  m.set_queryable(queryable);
  m.set_session_id(sessionId);
  setTimestamp(m.mutable_updated_at(), nowUs);
  m.set_hops(hops);
  addCapabilities(m.mutable_capabilities(), nodeInstanceCapabilities(features));
  return m.SerializeAsString();
}

std::string encodeUpdateNodeCollectors(const std::string& claimId, const std::string& nodeId,
                                       const Collectors& collectors) {
  nodeinstance::info::v1::UpdateNodeCollectors m;
  m.set_claim_id(claimId);
  m.set_node_id(nodeId);
  for (const auto& [plugin, module] : collectors) {
    auto* c = m.add_collectors();
    c->set_plugin(plugin);
    c->set_module(module);
  }
  return m.SerializeAsString();
}

std::string encodeUpdateNodeInfo(const NodeInfoFields& f, int64_t nowUs) {
  nodeinstance::info::v1::UpdateNodeInfo m;
  m.set_claim_id(f.claimId);
  m.set_node_id(f.nodeId);
  m.set_machine_guid(f.machineGuid);
  m.set_child(f.child);
  setTimestamp(m.mutable_updated_at(), nowUs);
  auto* d = m.mutable_data();
  d->set_name(f.hostname);
  d->set_os(f.system.os);
  d->set_os_name(f.system.osName);
  d->set_os_version(f.system.osVersion);
  d->set_kernel_name(f.system.kernelName);
  d->set_kernel_version(f.system.kernelVersion);
  d->set_architecture(f.system.architecture);
  d->set_cpus(f.system.cpus);
  d->set_cpu_frequency(f.system.cpuFrequency);
  d->set_memory(f.system.memory);
  d->set_disk_space(f.system.diskSpace);
  d->set_version(f.version);
  d->set_release_channel(f.releaseChannel);
  d->set_timezone(f.system.timezone);
  d->set_virtualization_type(f.system.virtualization);
  d->set_container_type(f.system.container);
  d->set_machine_guid(f.machineGuid);
  for (const auto& [k, v] : f.hostLabels) {
    (*d->mutable_host_labels())[k] = v;
  }
  d->mutable_ml_info()->set_ml_capable(f.system.mlCapable);
  d->mutable_ml_info()->set_ml_enabled(f.system.mlEnabled);
  m.mutable_ml_info()->set_ml_capable(f.system.mlCapable);
  m.mutable_ml_info()->set_ml_enabled(f.system.mlEnabled);
  addCapabilities(m.mutable_node_info()->mutable_capabilities(), agentCapabilities(f.gateway));
  addCapabilities(m.mutable_node_instance_info()->mutable_capabilities(),
                  nodeInstanceCapabilities(f.features));
  return m.SerializeAsString();
}

std::string encodeContextsSnapshot(const std::string& claimId, const std::string& nodeId,
                                   uint64_t versionHash, const std::vector<ContextRecord>& contexts) {
  context::v1::ContextsSnapshot m;
  m.set_claim_id(claimId);
  m.set_node_id(nodeId);
  m.set_version(versionHash);
  for (const auto& c : contexts) {
    fillContext(m.add_contexts(), c);
  }
  return m.SerializeAsString();
}

std::string encodeContextsUpdated(const std::string& claimId, const std::string& nodeId,
                                  uint64_t versionHash, uint64_t createdAt,
                                  const std::vector<ContextRecord>& contexts) {
  context::v1::ContextsUpdated m;
  m.set_claim_id(claimId);
  m.set_node_id(nodeId);
  m.set_version_hash(versionHash);
  m.set_created_at(createdAt);
  for (const auto& c : contexts) {
    fillContext(m.add_contextupdates(), c);
  }
  return m.SerializeAsString();
}

bool decodeInbound(std::string_view type, std::string_view payload, InboundMessage* out,
                   std::string* error) {
  using Kind = InboundMessage::Kind;
  *out = InboundMessage{};
  auto fail = [&](std::string_view what) {
    *error = "cannot decode " + std::string(what) + " (" + std::to_string(payload.size()) +
             " bytes): not a valid protobuf message";
    return false;
  };
  if (type == "SendNodeInstances") {
    agent::v1::SendNodeInstances m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kSendNodeInstances;
    out->claimId = m.claim_id();
  } else if (type == "CreateNodeInstanceResult") {
    nodeinstance::create::v1::CreateNodeInstanceResult m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kCreateNodeInstanceResult;
    out->nodeId = m.node_id();
    out->machineGuid = m.machine_guid();
  } else if (type == "ContextsCheckpoint") {
    context::v1::ContextsCheckpoint m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kContextsCheckpoint;
    out->claimId = m.claim_id();
    out->nodeId = m.node_id();
    out->versionHash = m.version_hash();
  } else if (type == "StopStreamingContexts") {
    context::v1::StopStreamingContexts m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kStopStreamingContexts;
    out->claimId = m.claim_id();
    out->nodeId = m.node_id();
  } else if (type == "StartAlarmStreaming") {
    alarms::v1::StartAlarmStreaming m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kStartAlarmStreaming;
    out->nodeId = m.node_id();
    out->versionHash = m.version();
  } else if (type == "SendAlarmCheckpoint") {
    alarms::v1::SendAlarmCheckpoint m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kSendAlarmCheckpoint;
    out->claimId = m.claim_id();
    out->nodeId = m.node_id();
    out->versionHash = m.version();
  } else if (type == "SendAlarmConfiguration") {
    alarms::v1::SendAlarmConfiguration m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kSendAlarmConfiguration;
    out->configHash = m.config_hash();
  } else if (type == "SendAlarmSnapshot") {
    alarms::v1::SendAlarmSnapshot m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kSendAlarmSnapshot;
    out->claimId = m.claim_id();
    out->nodeId = m.node_id();
  } else if (type == "DisconnectReq") {
    agent::v1::DisconnectReq m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kDisconnectReq;
    out->reconnectAfterSeconds = m.reconnect_after_seconds();
    out->permaban = m.permaban();
    out->errorCode = m.error_code();
    out->errorDescription = escapeUntrusted(m.error_description());
  } else if (type == "CancelPendingRequest") {
    agent::v1::CancelPendingRequest m;
    if (!parseInto(&m, payload)) return fail(type);
    out->kind = Kind::kCancelPendingRequest;
    out->requestId = escapeUntrusted(m.request_id());
  } else if (type == "StreamChartsAndDimensions" || type == "ChartsAndDimensionsAck" ||
             type == "UpdateChartConfigs") {
    out->kind = Kind::kObsolete;
  } else {
    out->kind = Kind::kUnknown;
  }
  // The boundary for ids from the cloud: they are logged, stored and sent back, so an id that
  // is not a UUID is refused here (the caller counts it as malformed) and shown escaped.
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"node_id", &out->nodeId},
                                    {"claim_id", &out->claimId},
                                    {"machine_guid", &out->machineGuid}}) {
    if (!value->empty() && !isUuid(*value)) {
      *error = std::string(type) + ": " + name + " \"" + escapeUntrusted(*value) +
               "\" is not a UUID";
      return false;
    }
  }
  return true;
}

}  // namespace aclkd::aclk
