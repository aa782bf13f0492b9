#include "claim/claim_inputs.h"

#include "common/config_table.h"
#include "common/file_util.h"

namespace aclkd::claim {

std::vector<std::string> parseRooms(std::string_view text) {
  std::vector<std::string> rooms;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    std::string_view item =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      rooms.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    pos = comma + 1;
  }
  return rooms;
}

std::optional<ClaimInputs> claimInputsFromConf(const ClaimConf& conf) {
  ClaimInputs in;
  in.source = "claim.conf";
  in.token = conf.token;
  in.url = conf.url;
  if (in.token.empty() || in.url.empty()) {
    return std::nullopt;
  }
  in.rooms = parseRooms(conf.rooms);
  in.proxy = conf.proxy;
  in.insecure = conf.insecure;
  return in;
}

std::optional<ClaimInputs> claimInputsFromEnvironment(const EnvLookup& env,
                                                      const std::string& fallbackUrl) {
  const auto token = env("NETDATA_CLAIM_TOKEN");
  if (!token || token->empty()) {
    return std::nullopt;
  }
  ClaimInputs in;
  in.source = "environment";
  in.token = *token;
  in.url = env("NETDATA_CLAIM_URL").value_or("");
  if (in.url.empty()) {
    in.url = fallbackUrl;
  }
  in.rooms = parseRooms(env("NETDATA_CLAIM_ROOMS").value_or(""));
  in.proxy = env("NETDATA_CLAIM_PROXY").value_or("");
  if (in.proxy.empty()) {
    in.proxy = "env";
  }
  const std::string extra = env("NETDATA_EXTRA_CLAIM_OPTS").value_or("");
  size_t pos = 0;
  while (pos < extra.size()) {
    const size_t start = extra.find_first_not_of(" \t\n", pos);
    if (start == std::string::npos) {
      break;
    }
    const size_t end = extra.find_first_of(" \t\n", start);
    if (extra.substr(start, end - start) == "-insecure") {
      in.insecure = true;
    }
    pos = end == std::string::npos ? extra.size() : end;
  }
  return in;
}

std::optional<ClaimInputs> claimInputsFromSplitFiles(const std::string& cloudDir,
                                                     const std::string& url,
                                                     const std::string& proxy, bool insecure) {
  const auto token = readFile(cloudDir + "/token");
  if (!token || token->empty()) {
    return std::nullopt;
  }
  ClaimInputs in;
  in.source = "cloud.d split files";
  in.token = *token;
  in.rooms = parseRooms(readFile(cloudDir + "/rooms").value_or(""));
  in.url = url;
  in.proxy = proxy;
  in.insecure = insecure;
  return in;
}

}  // namespace aclkd::claim
