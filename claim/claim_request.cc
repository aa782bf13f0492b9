#include "claim/claim_request.h"

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/url.h"

namespace aclkd::claim {

std::string buildClaimBody(const std::string& claimedId, const std::string& hostname,
                           const std::string& token, const std::vector<std::string>& rooms,
                           const std::string& publicPem, const std::string& machineGuid) {
  nlohmann::ordered_json body;
  body["node"]["id"] = claimedId;
  body["node"]["hostname"] = hostname;
  body["token"] = token;
  body["rooms"] = rooms;
  body["publicKey"] = publicPem;
  body["mGUID"] = machineGuid;
  return body.dump();
}

std::string claimUrl(const std::string& baseUrl, const std::string& claimedId) {
  return joinUrl(baseUrl, "/api/v1/spaces/nodes/" + claimedId);
}

ClaimOutcome interpretClaimResponse(const HttpClientResponse& response) {
  ClaimOutcome out;
  if (response.failure != HttpFailure::kNone) {
    out.retryable = true;
    out.reason = "Failed: " + response.error;
    return out;
  }
  switch (response.status) {
    case 204:
      out.ok = true;
      return out;
    case 422: {
      std::string key;
      const auto json = nlohmann::json::parse(response.body, nullptr, false);
      if (json.is_object() && json.contains("errorMsgKey") && json["errorMsgKey"].is_string()) {
        key = json["errorMsgKey"].get<std::string>();
      }
      if (key == "ErrInvalidNodeID") {
        out.reason = "Failed: the node id is invalid";
      } else if (key == "ErrInvalidNodeName") {
        out.reason = "Failed: the node name is invalid";
      } else if (key == "ErrInvalidRoomID") {
        out.reason = "Failed: one or more room ids are invalid";
      } else if (key == "ErrInvalidPublicKey") {
        out.reason = "Failed: the public key is invalid";
      } else {
        out.reason = "Failed with description '" + key + "'";
      }
      return out;
    }
    case 102: out.reason = "Claiming is in progress"; return out;
    case 403: out.reason = "Failed: token is expired, not found, or invalid"; return out;
    case 409: out.reason = "Failed: agent is already claimed"; return out;
    case 500:
      out.retryable = true;
      out.reason = "Failed: received Internal Server Error";
      return out;
    case 503:
      out.retryable = true;
      out.reason = "Failed: Netdata Cloud is unavailable";
      return out;
    case 504:
      out.retryable = true;
      out.reason = "Failed: Gateway Timeout";
      return out;
    default:
      out.retryable = true;
      out.reason = "Failed with response code " + std::to_string(response.status);
      return out;
  }
}

}  // namespace aclkd::claim
