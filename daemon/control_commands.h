#pragma once

#include <string>
#include <vector>

namespace aclkd::daemon {

// `aclkctl claim`'s arguments, as the control request carries them.
struct ClaimRequest {
  std::string token;
  std::string rooms;  // comma-separated
  std::string url;    // "" for the default cloud
  std::string proxy;
  bool insecure = false;
};

// What the control socket's commands act on: the gateway (Gateway implements it), or a test's
// fake. The commands' parsing and replies live in dispatchControl; the work behind each command
// stays with whoever owns the parts.
class ControlTarget {
 public:
  virtual ~ControlTarget() = default;
  virtual std::string aclkStateJson() const = 0;  // aclk::renderAclkStateJson of the state
  virtual std::string reloadClaimingState() = 0;  // the reply text
  // The reply text; `*failed` true when the claim did not succeed (or was refused unheard).
  virtual std::string claim(const ClaimRequest& request, bool* failed) = 0;
  virtual std::string streamsJson() const = 0;  // a JSON array (surface_json.h)
  virtual std::string nodesJson() const = 0;    // a JSON array
  virtual std::string reloadConfig() = 0;       // the reply text
  // Netdata's remove-stale-node (`unregister`) / mark-stale-nodes-ephemeral: one line per node
  // acted on.
  virtual std::vector<std::string> staleNodes(const std::string& which, bool unregister) = 0;
};

// One control request line (a JSON object with "command") to one reply line: {"code", "text"},
// or the command's own fields ("state", "streams", "nodes", "results"). A malformed request or an
// unknown command gets code 1 and says why; nothing reaches `target` then.
std::string dispatchControl(const std::string& requestLine, ControlTarget& target);

}  // namespace aclkd::daemon
