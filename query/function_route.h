#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aclkd::query {

// What a cloud request for a relayed node asks of its functions (docs/protocol/aclk.md §8.3):
//   /api/v1|v2|v3/function?function=<name and arguments>[&timeout=<s>]  (GET, or POST with a body)
//   /api/v1|v2|v3/functions                                            the list
//   /api/v1|v2|v3/config?action=…&path=…&id=…&name=…&timeout=…         dynamic configuration, a
//                                                                       call of the `config`
//                                                                       function
// Anything else is not about functions (kNone) and goes the query proxy's HTTP way.
struct FunctionAsk {
  enum class Kind { kNone, kList, kCall };
  Kind kind = Kind::kNone;
  int listVersion = 2;  // kList: 1 for /api/v1/functions (a map by name), else 2
  std::string command;  // kCall: "<name> [arguments]"
  std::optional<int> timeoutSeconds;  // kCall: `timeout=`, else the declared one applies
  bool dyncfg = false;  // kCall through /api/…/config
  std::string error;    // the request is malformed: 400 with this
};

FunctionAsk parseFunctionAsk(std::string_view rest);

// Who is asking, as the cloud says in its request's headers (X-Netdata-Permissions, -Role,
// -User-Name, -Account-Id), in the form a Netdata parent passes down with a call:
// access bits as given (0 when absent) and a `source` of
// "method=NC,role=<role>,permissions=0x<bits>[,user=<name>][,account=<id>]". Values are cut to
// safe characters (no quote, comma or control character can reach the stream).
struct CallerIdentity {
  uint32_t access = 0;
  std::string source;
};
CallerIdentity callerIdentity(const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace aclkd::query
