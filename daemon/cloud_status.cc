#include "daemon/cloud_status.h"

namespace aclkd::daemon {

void applyCloudStatus(const ClaimFacts& claim, aclk::AclkStateView* view) {
  auto& v = *view;
  if (!claim.cloudEnabled) {
    v.aclkStatus = "disabled";
  } else if (!claim.blockedReason.empty() && !v.online) {
    v.aclkStatus = claim.blockedReason;
  }
  if (v.banned) {
    v.cloudStatus = "banned";
    v.cloudReason = "Agent is banned from Netdata Cloud";
  } else if (v.online) {
    v.cloudStatus = "online";
    v.cloudReason = "";
  } else if (claim.claimed) {
    v.cloudStatus = "offline";
    v.cloudReason = v.aclkStatus;
  } else {
    v.cloudStatus = "available";
    v.cloudReason = claim.claimFailureReason;
  }
}

}  // namespace aclkd::daemon
