#include "daemon/claim_commands.h"

#include <algorithm>

#include "common/proxy.h"

namespace aclkd::daemon {

std::optional<claim::ClaimInputs> claimInputsOf(const ClaimRequest& request, std::string* error) {
  if (request.token.empty()) {
    *error = "Claim token must be specified";
    return std::nullopt;
  }
  std::string proxyError;
  if (!request.proxy.empty() && !parseProxyValue(request.proxy, &proxyError)) {
    *error = "invalid proxy: " + proxyError;
    return std::nullopt;
  }
  claim::ClaimInputs in;
  in.source = "aclkctl claim";
  in.token = request.token;
  in.rooms = claim::parseRooms(request.rooms);
  in.url = request.url.empty() ? std::string(claim::kDefaultCloudUrl) : request.url;
  in.proxy = request.proxy;
  in.insecure = request.insecure;
  return in;
}

bool onlineWithNodeId(const aclk::AclkStateView& view) {
  return view.online && std::any_of(view.nodes.begin(), view.nodes.end(), [](const auto& n) {
           return n.self && n.nodeId.has_value();
         });
}

std::string claimedStateText(const aclk::AclkStateView& view) {
  if (onlineWithNodeId(view)) {
    return "Netdata Agent is claimed to Netdata Cloud and is currently online.";
  }
  if (view.banned) return "Netdata Agent is claimed to Netdata Cloud, but it is banned.";
  return "Netdata Agent is claimed to Netdata Cloud, but it is currently offline: " +
         view.aclkStatus;
}

}  // namespace aclkd::daemon
