#include "claim/claim_manager.h"

#include <spdlog/spdlog.h>

#include "common/config_table.h"
#include "common/url.h"

namespace aclkd::claim {

ClaimManager::ClaimManager(std::string stateDir, CloudSettings settings, EnvLookup env)
    : store_(std::move(stateDir)), env_(std::move(env)), settings_(std::move(settings)),
      snapshot_(std::make_shared<ClaimSnapshot>()) {
  store_.cleanupInterrupted();
}

std::shared_ptr<const ClaimSnapshot> ClaimManager::snapshot() const {
  std::lock_guard lock(snapMutex_);
  return snapshot_;
}

void ClaimManager::updateSettings(CloudSettings settings) {
  std::lock_guard op(opMutex_);
  settings_ = std::move(settings);
}

std::shared_ptr<const ClaimSnapshot> ClaimManager::loadSnapshot(const std::string& failureReason) {
  StoredClaim stored = store_.load();
  for (const auto& w : stored.warnings) {
    spdlog::warn("{}", w);
  }
  auto snap = std::make_shared<ClaimSnapshot>();
  snap->claimed = stored.claimedId.has_value();
  snap->claimedId = stored.claimedId.value_or("");
  snap->cloudUrl = !settings_.url.empty()   ? settings_.url
                   : !stored.url.empty()    ? stored.url
                                            : std::string(kDefaultCloudUrl);
  snap->cloudUrlValid = parseUrl(snap->cloudUrl, nullptr).has_value();
  snap->insecure = settings_.insecure || stored.insecure;
  // Proxy for the link (docs/protocol/aclk.md §12.1): aclkd.conf [cloud] proxy wins, else
  // cloud.conf, else env.
  std::string proxyText = settings_.proxy;
  std::string proxySource = settings_.proxySource;
  if (proxyText.empty()) {
    proxyText = stored.proxy.empty() ? "env" : stored.proxy;
    proxySource = "cloud.conf";
  }
  std::string error;
  if (const auto value = parseProxyValue(proxyText, &error)) {
    std::string warning;
    snap->proxy = resolveProxy(*value, proxySource, env_, &warning);
    if (!warning.empty()) {
      spdlog::warn("ACLK: {}", warning);
    }
  } else {
    spdlog::error("Config var \"proxy\" defined but of unknown format ({}); connecting directly",
                  error);
  }
  snap->keyState = stored.keyState;
  snap->keyError = stored.keyError;
  snap->key = std::move(stored.key);
  snap->claimFailureReason = snap->claimed ? "" : failureReason;
  if (snap->claimed && snap->keyState != KeyState::kLoaded) {
    snap->blockedReason = std::string(kKeyLoadFailure);
    spdlog::error("{} ({})", kKeyLoadFailure, snap->keyError);
  } else if (snap->claimed && !snap->cloudUrlValid) {
    snap->blockedReason = std::string(kInvalidUrl);
    spdlog::error("{}", kInvalidUrl);
  }
  spdlog::info(snap->claimed ? "CLAIM: Found a valid claimed_id, setting state to AGENT_CLAIMED"
                             : "CLAIM: Unable to find our claimed_id, setting state to "
                               "AGENT_UNCLAIMED");
  {
    std::lock_guard lock(snapMutex_);
    if (!snapshot_ || snapshot_->claimedId != snap->claimedId ||
        snapshot_->keyState != snap->keyState || snapshot_->cloudUrl != snap->cloudUrl) {
      ++generation_;
    }
    snap->generation = generation_;
    snapshot_ = snap;
  }
  return snap;
}

ClaimManager::ReloadResult ClaimManager::reload(const ClaimConf* claimConf,
                                                const std::optional<ClaimInputs>& explicitInputs) {
  ReloadResult result;
  std::lock_guard op(opMutex_);
  spdlog::info("CLAIM: Reloading Agent Claiming configuration.");
  std::string reason = "Agent is not claimed yet";
  const StoredClaim stored = store_.load();
  if (stored.claimedId && !explicitInputs) {
    result.snapshot = loadSnapshot(reason);
    return result;
  }
  if (!stored.corruptIdentity.empty() && !explicitInputs) {
    // A broken identity is never replaced silently: only an explicit `aclkctl claim` may.
    spdlog::error("CLAIM: {}", stored.corruptIdentity);
    result.reason = stored.corruptIdentity;
    result.snapshot = loadSnapshot(stored.corruptIdentity);
    return result;
  }
  std::vector<ClaimInputs> sources;
  if (explicitInputs) {
    sources.push_back(*explicitInputs);
  }
  if (claimConf) {
    if (auto in = claimInputsFromConf(*claimConf)) {
      sources.push_back(*in);
    }
  }
  const std::string fallbackUrl = !settings_.url.empty() ? settings_.url
                                  : !stored.url.empty()  ? stored.url
                                                         : std::string(kDefaultCloudUrl);
  if (auto in = claimInputsFromEnvironment(env_, fallbackUrl)) {
    sources.push_back(*in);
  }
  if (auto in = claimInputsFromSplitFiles(store_.dir(), fallbackUrl,
                                          stored.proxy.empty() ? "env" : stored.proxy,
                                          stored.insecure)) {
    sources.push_back(*in);
  }
  ClaimEnvironment env;
  env.hostname = settings_.hostname;
  env.machineGuid = settings_.machineGuid;
  env.caFile = settings_.caFile;
  env.proxyOverride = settings_.proxy;
  env.proxySource = settings_.proxySource;
  env.insecureOverride = settings_.insecure;
  for (const auto& in : sources) {
    const ClaimOutcome outcome = claimOnce(in, env, store_);
    result.attempted = true;
    if (outcome.ok) {
      result.succeeded = true;
      result.snapshot = loadSnapshot("");
      return result;
    }
    reason = outcome.reason;
    spdlog::error("CLAIM: {} (inputs from {})", outcome.reason, in.source);
    if (explicitInputs) {
      break;  // an explicit `aclkctl claim` reports its own failure, not a fallback's
    }
  }
  result.reason = reason;
  result.snapshot = loadSnapshot(reason);
  return result;
}

}  // namespace aclkd::claim
