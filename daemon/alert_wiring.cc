#include "daemon/alert_wiring.h"

#include <spdlog/spdlog.h>

#include "aclk/aclk_state_view.h"
#include "alerts/entry_json.h"
#include "daemon/relay_features.h"

namespace aclkd::daemon {

std::shared_ptr<alerts::AlertRelay> makeAlertRelay(const Options& options,
                                                   alerts::AlertRelay::NodeList nodes,
                                                   std::shared_ptr<query::ForwardClient> client,
                                                   const std::shared_ptr<store::StateStore>& store,
                                                   std::function<void()> relayedChanged) {
  if (options.alertsPollSeconds == 0) {
    spdlog::info("ALERTS: [cloud] alerts poll every is 0; nodes' alerts are not relayed");
    return nullptr;
  }
  alerts::RelayOptions ro;
  ro.pollEvery = std::chrono::seconds(options.alertsPollSeconds);
  ro.defaultPort = static_cast<int>(options.queryDefaultPort);
  alerts::PersistAlerts persist;
  if (store) {
    persist = [store](const std::string& guid, uint64_t cursor,
                      const std::vector<aclk::AlarmEntry>& changed) {
      store->putAlertCursor(guid, cursor);
      for (const auto& e : changed) store->putAlert(guid, e.key, alerts::entryToJson(e));
    };
  }
  auto relay = std::make_shared<alerts::AlertRelay>(ro, std::move(nodes), std::move(client),
                                                    std::move(persist), std::move(relayedChanged));
  if (store) {
    size_t dropped = 0;
    for (auto& [guid, stored] : store->takeLoadedAlerts()) {
      std::vector<aclk::AlarmEntry> entries;
      for (const auto& [key, text] : stored.entries) {
        if (auto e = alerts::entryFromJson(text)) {
          entries.push_back(std::move(*e));
        } else {
          ++dropped;
        }
      }
      relay->restore(guid, stored.sentCursor, std::move(entries));
    }
    if (dropped > 0) {
      spdlog::warn("ALERTS: {} stored alert rows were unreadable and are ignored; the cloud "
                   "gets a snapshot for their nodes",
                   dropped);
    }
  }
  return relay;
}

void connectAlertRelay(aclk::Link& link, std::shared_ptr<aclk::NodeRelaySource> registry,
                       std::shared_ptr<alerts::AlertRelay> relay) {
  link.setRelaySource(std::make_shared<RelayFeatures>(
      std::move(registry),
      [relay](const std::string& guid) { return relay && relay->relayed(guid); }));
  if (relay) link.setAlarmSource(std::move(relay));
}

void addAlertFields(nlohmann::ordered_json* node, const alerts::AlertRelay* relay,
                    const std::string& machineGuid, const Options& options) {
  auto& j = *node;
  const auto s = relay ? relay->status(machineGuid) : std::nullopt;
  j["alerts-raised"] = s ? s->raised : 0;
  j["alerts-last-transition"] =
      s && s->lastTransition ? aclk::formatUtc(static_cast<std::time_t>(s->lastTransition)) : "";
  // Last: free text, so the text table's other columns stay one word each.
  if (!relay) {
    j["alerts"] = !options.cloudEnabled ? "off: [cloud] enabled = no"
                                        : "off: [cloud] alerts poll every = 0";
  } else if (!s) {
    j["alerts"] = "not checked yet";
  } else {
    j["alerts"] = s->relayed ? "relayed" : "not relayed: " + s->reason;
  }
}

}  // namespace aclkd::daemon
