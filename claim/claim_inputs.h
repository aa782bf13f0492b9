#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/proxy.h"

namespace aclkd::claim {

inline constexpr std::string_view kDefaultCloudUrl = "https://app.netdata.cloud";

// What a claim needs, and where it came from (for the log and the failure reason).
struct ClaimInputs {
  std::string source;  // "aclkctl claim", "claim.conf", "environment", "cloud.d split files"
  std::string url;
  std::string token;
  std::vector<std::string> rooms;
  std::string proxy;  // none | env | URL; empty means env
  bool insecure = false;
};

// Splits on commas, trims spaces, skips empty items (Netdata's room list handling).
std::vector<std::string> parseRooms(std::string_view text);

// claim.conf's [global] values, typed (the daemon fills them from its option table).
struct ClaimConf {
  std::string url;
  std::string token;
  std::string rooms;
  std::string proxy;
  bool insecure = false;
};

// claim.conf as claim inputs; nullopt without a token or URL.
std::optional<ClaimInputs> claimInputsFromConf(const ClaimConf& claimConf);

// NETDATA_CLAIM_TOKEN/URL/ROOMS/PROXY and `-insecure` in NETDATA_EXTRA_CLAIM_OPTS; nullopt without
// a token. `fallbackUrl` is used when NETDATA_CLAIM_URL is empty.
std::optional<ClaimInputs> claimInputsFromEnvironment(const EnvLookup& env,
                                                      const std::string& fallbackUrl);

// cloud.d/token and cloud.d/rooms (the token is used untrimmed, as Netdata does).
std::optional<ClaimInputs> claimInputsFromSplitFiles(const std::string& cloudDir,
                                                     const std::string& url,
                                                     const std::string& proxy, bool insecure);

}  // namespace aclkd::claim
