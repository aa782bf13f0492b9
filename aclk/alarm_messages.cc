// The alert messages of docs/protocol/alerts.md §4 (alarms.v1): encoders for what the alert relay
// hands the link.
#include "aclk/messages.h"

#include "alarms/v1/alarm.pb.h"

namespace aclkd::aclk {
namespace {

void fillEntry(alarms::v1::AlarmLogEntry* m, const std::string& claimId,
               const std::string& nodeId, const AlarmEntry& e) {
  m->set_node_id(nodeId);
  m->set_claim_id(claimId);
  m->set_chart(e.chart);
  m->set_name(e.name);
  m->set_family(e.family);
  m->set_when(e.when);
  m->set_config_hash(e.configHash);
  m->set_utc_offset(e.utcOffset);
  m->set_timezone(e.timezone);
  m->set_exec_path(e.execPath);
  m->set_conf_source(e.confSource);
  m->set_command(e.command);
  m->set_duration(e.duration);
  m->set_non_clear_duration(e.nonClearDuration);
  m->set_status(static_cast<alarms::v1::AlarmStatus>(e.status));
  m->set_old_status(static_cast<alarms::v1::AlarmStatus>(e.oldStatus));
  m->set_delay(e.delay);
  m->set_delay_up_to_timestamp(e.delayUpToTimestamp);
  m->set_last_repeat(e.lastRepeat);
  m->set_silenced(e.silenced);
  m->set_value_string(e.valueString);
  m->set_old_value_string(e.oldValueString);
  m->set_value(e.value);
  m->set_old_value(e.oldValue);
  m->set_updated(e.updated);
  m->set_rendered_info(e.renderedInfo);
  m->set_chart_context(e.chartContext);
  m->set_event_id(e.eventId);
  m->set_transition_id(e.transitionId);
  m->set_chart_name(e.chartName.empty() ? e.chart : e.chartName);
  m->set_summary(e.summary);
  // The alert's version is the `when` of its last transition sent (docs/protocol/alerts.md §4).
  m->set_alert_version(e.when);
}

}  // namespace

std::string encodeAlarmLogEntry(const std::string& claimId, const std::string& nodeId,
                                const AlarmEntry& entry) {
  alarms::v1::AlarmLogEntry m;
  fillEntry(&m, claimId, nodeId, entry);
  return m.SerializeAsString();
}

std::string encodeAlarmSnapshot(const std::string& claimId, const std::string& nodeId,
                                const std::string& snapshotUuid, uint32_t chunks, uint32_t chunk,
                                const AlarmEntry* entries, size_t count) {
  alarms::v1::AlarmSnapshot m;
  m.set_node_id(nodeId);
  m.set_claim_id(claimId);
  m.set_chunks(chunks);
  m.set_chunk_size(static_cast<uint32_t>(count));
  m.set_chunk(chunk);
  m.set_snapshot_uuid(snapshotUuid);
  for (size_t i = 0; i < count; ++i) fillEntry(m.add_alarms(), claimId, nodeId, entries[i]);
  return m.SerializeAsString();
}

std::string encodeProvideAlarmConfiguration(const std::string& configHash,
                                            const AlarmConfig* config) {
  alarms::v1::ProvideAlarmConfiguration m;
  m.set_config_hash(configHash);
  auto* c = m.mutable_config();
  if (!config) return m.SerializeAsString();  // unknown here: the hash with an empty definition
  c->set_alarm(config->alarm);
  c->set_template_(config->templateName);
  c->set_on_chart(config->onChart);
  c->set_classification(config->classification);
  c->set_type(config->type);
  c->set_component(config->component);
  c->set_lookup(config->lookup);
  c->set_every(config->every);
  c->set_units(config->units);
  c->set_green(config->green);
  c->set_red(config->red);
  c->set_calculation_expr(config->calculation);
  c->set_warning_expr(config->warning);
  c->set_critical_expr(config->critical);
  c->set_recipient(config->recipient);
  c->set_exec(config->exec);
  c->set_delay(config->delay);
  c->set_repeat(config->repeat);
  c->set_info(config->info);
  c->set_options(config->options);
  c->set_host_labels(config->hostLabels);
  c->set_p_db_lookup_after(config->lookupAfter);
  c->set_p_db_lookup_before(config->lookupBefore);
  c->set_p_db_lookup_dimensions(config->lookupDimensions);
  c->set_p_db_lookup_method(config->lookupMethod);
  c->set_p_db_lookup_options(config->lookupOptions);
  c->set_p_update_every(config->updateEvery);
  c->set_chart_labels(config->chartLabels);
  c->set_summary(config->summary);
  return m.SerializeAsString();
}

}  // namespace aclkd::aclk
