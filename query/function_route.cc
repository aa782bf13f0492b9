#include "query/function_route.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "common/text.h"
#include "common/url.h"

namespace aclkd::query {
namespace {

// `?a=b&c=d` as decoded pairs; '+' is a space, as Netdata's URL decoding reads it.
std::map<std::string, std::string> queryParams(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (eq == 0 || pair.empty()) continue;
    std::string name(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    std::replace(value.begin(), value.end(), '+', ' ');
    out.emplace(percentDecode(name), percentDecode(value));
  }
  return out;
}

std::optional<int> seconds(const std::map<std::string, std::string>& params) {
  const auto it = params.find("timeout");
  if (it == params.end() || it->second.empty()) return std::nullopt;
  int v = 0;
  for (const char c : it->second) {
    if (c < '0' || c > '9') return std::nullopt;
    v = std::min(v * 10 + (c - '0'), 86400);
  }
  return v;
}

// Netdata's dynamic-configuration ids and names: no space, no quote of either kind (they travel
// inside quotes, twice), no backslash, no control character.
bool validConfigId(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  return std::none_of(id.begin(), id.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '\'' || c == '"' || c == '\\';
  });
}

constexpr std::array<std::string_view, 10> kConfigActions = {
    "get", "schema", "update", "add", "test", "remove", "enable", "disable", "restart",
    "userconfig"};

// `config …` as a Netdata parent makes it from /api/v3/config (docs/protocol/aclk.md §8.3).
FunctionAsk configAsk(const std::map<std::string, std::string>& params) {
  FunctionAsk ask;
  ask.kind = FunctionAsk::Kind::kCall;
  ask.dyncfg = true;
  auto value = [&](const char* name, std::string fallback) {
    const auto it = params.find(name);
    return it == params.end() || it->second.empty() ? fallback : it->second;
  };
  const std::string action = value("action", "tree");
  std::string id = value("id", "");
  std::string name = value("name", "");
  // Netdata reads `timeout` here with a floor of 10 s and a default of 120 s.
  ask.timeoutSeconds = std::max(10, seconds(params).value_or(120));
  if (action == "tree") {
    const std::string path = value("path", "/");
    if (!validConfigId(path) || (!id.empty() && !validConfigId(id))) {
      ask.error = "invalid path or id";
      return ask;
    }
    ask.command = "config tree '" + path + "' '" + id + "'";
    return ask;
  }
  if (!validConfigId(id)) {
    ask.error = "Invalid id";
    return ask;
  }
  if (std::find(kConfigActions.begin(), kConfigActions.end(), action) == kConfigActions.end()) {
    ask.error = "Invalid action";
    return ask;
  }
  if (action == "add" || action == "userconfig" || action == "test") {
    if (action == "test" && name.empty()) {
      // Netdata's backwards compatibility: a test without a name takes it from the id.
      const size_t colon = id.rfind(':');
      name = colon == std::string::npos ? "test" : id.substr(colon + 1);
      if (colon != std::string::npos) id.resize(colon);
    }
    if (!validConfigId(name) || !validConfigId(id)) {
      ask.error = "Invalid name";
      return ask;
    }
    ask.command = "config " + id + " " + action + " " + name;
    return ask;
  }
  ask.command = "config " + id + " " + action;
  return ask;
}

// Keeps what may travel inside a source string: printable, no quote and no comma (the fields'
// separator), at most `max` bytes.
std::string sourceValue(std::string_view v, size_t max) {
  std::string out;
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == ',' || c == '\\') continue;
    if (out.size() == max) break;
    out.push_back(c);
  }
  return out;
}

}  // namespace

FunctionAsk parseFunctionAsk(std::string_view rest) {
  FunctionAsk ask;
  const size_t q = rest.find('?');
  const std::string_view path = rest.substr(0, q);
  const auto params =
      queryParams(q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1));
  for (const std::string_view version : {"v1", "v2", "v3"}) {
    const std::string base = "/api/" + std::string(version) + "/";
    if (path.substr(0, base.size()) != base) continue;
    const std::string_view what = path.substr(base.size());
    if (what == "functions") {
      ask.kind = FunctionAsk::Kind::kList;
      ask.listVersion = version == "v1" ? 1 : 2;
    } else if (what == "function") {
      ask.kind = FunctionAsk::Kind::kCall;
      const auto fn = params.find("function");
      if (fn == params.end() || fn->second.empty()) {
        ask.error = "missing function= (the function to call and its arguments)";
      } else {
        ask.command = fn->second;
      }
      ask.timeoutSeconds = seconds(params);
    } else if (what == "config") {
      ask = configAsk(params);
    }
    break;
  }
  return ask;
}

CallerIdentity callerIdentity(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string role = "member";
  std::string user;
  std::string account;
  CallerIdentity id;
  for (const auto& [name, value] : headers) {
    const std::string n = asciiLower(name);
    if (n == "x-netdata-permissions") {
      const std::string v = sourceValue(value, 18);
      id.access = static_cast<uint32_t>(std::strtoul(v.c_str(), nullptr, 16));
    } else if (n == "x-netdata-role") {
      role = sourceValue(value, 32);
    } else if (n == "x-netdata-user-name") {
      user = sourceValue(value, 64);
    } else if (n == "x-netdata-account-id") {
      account = sourceValue(value, 64);
    }
  }
  char bits[16];
  std::snprintf(bits, sizeof bits, "0x%x", id.access);
  id.source = "method=NC,role=" + role + ",permissions=" + bits;
  if (!user.empty()) id.source += ",user=" + user;
  if (!account.empty()) id.source += ",account=" + account;
  return id;
}

}  // namespace aclkd::query
