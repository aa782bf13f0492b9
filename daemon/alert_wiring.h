#pragma once

#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "aclk/link.h"
#include "alerts/alert_relay.h"
#include "daemon/options.h"
#include "query/forward_client.h"
#include "store/state_store.h"

namespace aclkd::daemon {

// The alert relay as the daemon configures it: `[cloud] alerts poll every` (0: none, nullptr),
// the query proxy's default port, the shared forwarder, and the state store for what was sent
// (its alert rows are taken out of the store here, before the registry takes the rest).
std::shared_ptr<alerts::AlertRelay> makeAlertRelay(const Options& options,
                                                   alerts::AlertRelay::NodeList nodes,
                                                   std::shared_ptr<query::ForwardClient> client,
                                                   const std::shared_ptr<store::StateStore>& store,
                                                   std::function<void()> relayedChanged);

// The link's sources: the registry with each node's `health` from the relay (RelayFeatures),
// and the relay as the answer to the cloud's alert requests (none when `relay` is null).
void connectAlertRelay(aclk::Link& link, std::shared_ptr<aclk::NodeRelaySource> registry,
                       std::shared_ptr<alerts::AlertRelay> relay);

// The alert fields of one node in `aclkctl nodes [json]`: `alerts-raised`,
// `alerts-last-transition` (UTC, "" when none) and `alerts` (relayed, off and why, or why not). `options` say why
// there is no relay at all.
void addAlertFields(nlohmann::ordered_json* node, const alerts::AlertRelay* relay,
                    const std::string& machineGuid, const Options& options);

}  // namespace aclkd::daemon
