#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "claim/claim_inputs.h"
#include "claim/claimer.h"
#include "claim/claim_store.h"

namespace aclkd::claim {

// What the rest of the gateway may know about the claim: an immutable snapshot, replaced whole.
struct ClaimSnapshot {
  bool claimed = false;
  std::string claimedId;
  std::string cloudUrl;  // the URL the link will use: [cloud] url if set, else cloud.conf's
  bool cloudUrlValid = true;
  ProxySetting proxy;     // resolved (env looked up); display() never shows credentials
  bool insecure = false;
  KeyState keyState = KeyState::kMissing;
  std::string keyError;
  std::optional<RsaKey> key;
  // `Agent is not claimed yet`, the last claim failure (docs/protocol/aclk.md §3.4), or empty when
  // claimed.
  std::string claimFailureReason = "Agent is not claimed yet";
  // Why a claimed agent cannot connect (key or URL problem), empty when it can try.
  std::string blockedReason;
  unsigned long generation = 0;  // bumps on every change of identity
};

// Gateway-level settings from aclkd.conf [cloud] that bear on the claim.
struct CloudSettings {
  std::string url;           // empty: not set in aclkd.conf
  std::string proxy;         // empty: not set in aclkd.conf
  std::string proxySource = "aclkd.conf [cloud]";
  bool insecure = false;
  std::string caFile;
  std::string hostname;
  std::string machineGuid;
};

// The claim's one owner. Every operation that can change the identity (start-up claim,
// `aclkctl claim`, `reload-claiming-state`) runs under one mutex, so concurrent or repeated calls
// serialise instead of racing on cloud.d; readers take snapshot() and never wait for a claim.
class ClaimManager {
 public:
  ClaimManager(std::string stateDir, CloudSettings settings, EnvLookup env);

  std::shared_ptr<const ClaimSnapshot> snapshot() const;

  struct ReloadResult {
    std::shared_ptr<const ClaimSnapshot> snapshot;
    bool attempted = false;  // a claim request was made
    bool succeeded = false;
    std::string reason;      // the last failure, when attempted and not succeeded
  };

  // Re-reads cloud.d (and the claim.conf values given by the caller); if unclaimed, tries the
  // claim sources in order (claim.conf, environment, split files). Explicit inputs (`aclkctl
  // claim`) claim even a claimed gateway again: a new claimed_id with the same key.
  ReloadResult reload(const ClaimConf* claimConf,
                      const std::optional<ClaimInputs>& explicitInputs);

  void updateSettings(CloudSettings settings);

 private:
  std::shared_ptr<const ClaimSnapshot> loadSnapshot(const std::string& failureReason);

  ClaimStore store_;
  EnvLookup env_;
  mutable std::mutex opMutex_;  // serialises reload/claim
  mutable std::mutex snapMutex_;
  CloudSettings settings_;
  std::shared_ptr<const ClaimSnapshot> snapshot_;
  unsigned long generation_ = 0;
};

inline constexpr std::string_view kKeyLoadFailure =
    "Claimed agent cannot establish ACLK - unable to load private key";
inline constexpr std::string_view kInvalidUrl =
    "Agent is claimed but the URL in configuration key \"url\" is invalid";

}  // namespace aclkd::claim
