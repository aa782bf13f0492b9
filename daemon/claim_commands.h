#pragma once

#include <optional>
#include <string>

#include "aclk/aclk_state_view.h"
#include "claim/claim_inputs.h"
#include "daemon/control_commands.h"

namespace aclkd::daemon {

// `aclkctl claim`'s request as claim inputs, or nullopt with `*error` the reply: a request without
// a token, or with a proxy that does not parse, is refused before any HTTPS request.
std::optional<claim::ClaimInputs> claimInputsOf(const ClaimRequest& request, std::string* error);

// What `reload-claiming-state` waits for (as netdatacli does): the link online with the gateway's
// own node id.
bool onlineWithNodeId(const aclk::AclkStateView& view);

// `reload-claiming-state`'s reply for a claimed gateway once the wait is over: online, banned,
// or offline with the ACLK status.
std::string claimedStateText(const aclk::AclkStateView& view);

}  // namespace aclkd::daemon
