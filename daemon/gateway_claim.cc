// The Gateway's claim commands: the start-up claim, `aclkctl claim` and `reload-claiming-state`.
// What they decide from plain values (inputs, the reply) is in daemon/claim_commands.h; here is
// what touches the claim manager and the link.
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "daemon/claim_commands.h"
#include "daemon/gateway.h"
#include "daemon/options.h"

namespace aclkd::daemon {

claim::CloudSettings Gateway::cloudSettings() const {
  claim::CloudSettings s;
  s.url = config_.options.cloudUrl;
  s.proxy = config_.options.cloudProxy;
  s.insecure = config_.options.cloudInsecure;
  s.caFile = config_.options.cloudCaFile;
  s.hostname = hostname_;
  s.machineGuid = machineGuid_;
  return s;
}

void Gateway::startInitialClaim() {
  initialClaim_ = std::thread([this] {
    const claim::ClaimConf claimConf = claimConfOf(config_.options);
    const auto snap =
        claims_->reload(config_.claimConfPresent ? &claimConf : nullptr, {}).snapshot;
    if (!snap->claimed) {
      spdlog::warn("CLAIM: gateway is not claimed: {}", snap->claimFailureReason);
    }
    ready_.store(true);
  });
  if (link_) {
    link_->start();
  }
  if (alertRelay_) alertRelay_->start();
}

std::string Gateway::reloadClaimingState() {
  ConfigDiagnostics diag;
  const ConfigValues claimConf = loadClaimConf(config_.configDir, diag);
  for (const auto& w : diag.warnings) {
    spdlog::warn("{}", w);
  }
  if (!diag.errors.empty()) {
    for (const auto& e : diag.errors) {
      spdlog::error("{}", e);
    }
    return "claim.conf is invalid: " + diag.errors.front();
  }
  const claim::ClaimConf typed = claimConfOf(typedOptions(ConfigValues(), claimConf));
  const auto before = claims_->snapshot();
  const auto snap = claims_->reload(&typed, {}).snapshot;
  if (link_) {
    link_->reloadIdentity();
  }
  if (!snap->claimed) {
    return "Netdata Agent is not claimed to Netdata Cloud: " + snap->claimFailureReason;
  }
  // As netdatacli does (docs/protocol/aclk.md §3.6 step 5): wait up to 10 s, every 50 ms, for
  // "online with a node id", so the reply says how the reload ended rather than how it began. A new
  // identity first takes the old session down; "online" before that would be the old one.
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto view = stateView();
  if (link_ && before->claimedId != snap->claimedId) {
    const auto down = std::chrono::steady_clock::now() + 2s;
    while (view.online && std::chrono::steady_clock::now() < down) {
      std::this_thread::sleep_for(50ms);
      view = stateView();
    }
  }
  // A ban does not end the wait: the reload lifts it once the link takes the reload in, and the
  // first views may still show the old ban.
  while (link_ && !onlineWithNodeId(view) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    view = stateView();
  }
  return claimedStateText(view);
}

std::string Gateway::claim(const ClaimRequest& request, bool* failed) {
  std::string error;
  const auto in = claimInputsOf(request, &error);
  if (!in) {
    *failed = true;
    return error;
  }
  const auto result = claims_->reload(nullptr, *in);
  if (link_) {
    link_->reloadIdentity();
  }
  if (!result.succeeded) {
    *failed = true;
    return "Claiming failed: " + result.reason;
  }
  *failed = false;
  return "Netdata Agent is claimed to Netdata Cloud with claimed_id " + result.snapshot->claimedId;
}

}  // namespace aclkd::daemon
