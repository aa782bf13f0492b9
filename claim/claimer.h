#pragma once

#include <string>

#include "claim/claim_inputs.h"
#include "claim/claim_request.h"

namespace aclkd::claim {

class ClaimStore;

// Settings of the gateway that shape a claim, beyond the claim inputs themselves.
struct ClaimEnvironment {
  std::string hostname;
  std::string machineGuid;
  std::string caFile;        // [cloud] ca file; else cloud.d/trusted.pem; else the system store
  std::string proxyOverride; // [cloud] proxy when set explicitly in aclkd.conf: wins over inputs
  std::string proxySource;   // where proxyOverride came from, for display
  bool insecureOverride = false;
};

// Performs one claim attempt and, on success, commits the new identity to the store. It does not
// retry: retries belong to the caller's scheduling (the link's state machine owns every retry).
ClaimOutcome claimOnce(const ClaimInputs& inputs, const ClaimEnvironment& env,
                       const ClaimStore& store);

}  // namespace aclkd::claim
