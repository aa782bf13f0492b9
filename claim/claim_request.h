#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aclkd {
struct HttpClientResponse;
}

namespace aclkd::claim {

// The result of one claim attempt. `reason` is the text Netdata records (docs/protocol/aclk.md
// §3.4) or the transport cause; it never contains the token or key material.
struct ClaimOutcome {
  bool ok = false;
  bool retryable = false;
  std::string reason;
};

// The PUT body of docs/protocol/aclk.md §3.3, fields in Netdata's order, minified.
std::string buildClaimBody(const std::string& claimedId, const std::string& hostname,
                           const std::string& token, const std::vector<std::string>& rooms,
                           const std::string& publicPem, const std::string& machineGuid);

// `{url}/api/v1/spaces/nodes/{claimed_id}`.
std::string claimUrl(const std::string& baseUrl, const std::string& claimedId);

ClaimOutcome interpretClaimResponse(const HttpClientResponse& response);

}  // namespace aclkd::claim
