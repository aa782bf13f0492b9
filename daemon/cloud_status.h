#pragma once

#include <string>

#include "aclk/aclk_state_view.h"

namespace aclkd::daemon {

// The claim's facts the statuses are decided by (claim::ClaimSnapshot's, and the configuration's).
struct ClaimFacts {
  bool cloudEnabled = true;        // [cloud] enabled
  bool claimed = false;
  std::string blockedReason;       // why the claim blocks connecting; "" when it does not
  std::string claimFailureReason;  // why the gateway is not claimed
};

// Sets `view`'s ACLK status (docs/protocol/aclk.md §11.1) where the claim overrides the link's,
// then the cloud status and reason (§11.2/§11.5), by precedence: banned, online, offline
// (claimed), available (not claimed). `view` holds what the link filled in.
void applyCloudStatus(const ClaimFacts& claim, aclk::AclkStateView* view);

}  // namespace aclkd::daemon
