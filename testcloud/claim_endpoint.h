#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "testcloud/api_router.h"
#include "testcloud/cloud_state.h"

namespace aclkd::testcloud {

// Which claims the cloud accepts, from the command line.
struct ClaimPolicy {
  std::set<std::string> tokens;
  std::set<std::string> rooms;  // empty: any room list is accepted
  int minKeyBits = 2048;
};

// `PUT /api/v1/spaces/nodes/{claimed_id}`, answered as Netdata Cloud does (docs/protocol/aclk.md
// §3.3-3.4). Checks run in a fixed order so that a request with several faults always gets the
// same answer: request shape (422 ErrInvalidRequest), node id (422 ErrInvalidNodeID), hostname
// (422 ErrInvalidNodeName), token (403 ErrForbidden), rooms (422 ErrInvalidRoomID), public key
// (422 ErrInvalidPublicKey), then registration (409 ErrAlreadyClaimed, else 204). An injected
// claim fault wins over all of them.
class ClaimEndpoint {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  ClaimEndpoint(ClaimPolicy policy, CloudState& state, Clock clock = {});

  void addRoutes(ApiRouter& router);

  // The claim itself: `claimedId` is the URL segment, `body` the request body.
  Reply claim(std::string_view claimedId, std::string_view body);

 private:
  Reply injectedFault(int status) const;

  const ClaimPolicy policy_;
  CloudState& state_;
  Clock clock_;
};

// ISO 8601 UTC with seconds, as recorded in a claim's `time`.
std::string formatUtc(std::chrono::system_clock::time_point when);

}  // namespace aclkd::testcloud
