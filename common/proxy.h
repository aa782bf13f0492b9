#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace aclkd {

enum class ProxyKind { kNone, kHttp, kSocks5, kSocks5h };

// A proxy after `env` has been resolved. Credentials are kept decoded and are never part of
// display(): the display is what logs, the CLI and the API show.
struct ProxySetting {
  ProxyKind kind = ProxyKind::kNone;
  std::string host;
  int port = 0;
  std::string user;
  std::string password;
  std::string source;  // "aclkd.conf [cloud]", "claim.conf", "environment variable 'https_proxy'"

  bool hasCredentials() const { return !user.empty() || !password.empty(); }
  std::string schemeName() const;  // http, socks5, socks5h
  // `none`, or `http://host:port (with credentials, from claim.conf)`: the aclk-state form.
  std::string display() const;
  // scheme://host:port without credentials, for libcurl's CURLOPT_PROXY.
  std::string urlWithoutCredentials() const;
  // The label Netdata adds as `_aclk_proxy`: HTTP, SOCKS5, SOCKS5H or none.
  std::string labelValue() const;
};

// A configured value: "" / "none" (direct), "env", or an explicit URL.
struct ProxyValue {
  enum class Mode { kNone, kEnv, kExplicit } mode = Mode::kNone;
  ProxySetting explicitProxy;  // when kExplicit
};

// Parses a configured proxy value. User and password are URL-decoded; the userinfo ends at the
// last '@' and user/password split at the first ':' so that raw '@' or ':' in a password work.
std::optional<ProxyValue> parseProxyValue(std::string_view value, std::string* error);

using EnvLookup = std::function<std::optional<std::string>(const char*)>;
EnvLookup processEnvironment();

// Resolves a configured value to the proxy the link will use. `env` reads `http_proxy`, then
// `https_proxy` (lowercase only, no `no_proxy`, as the ACLK does). An unusable environment value
// yields no proxy and sets `*warning`.
ProxySetting resolveProxy(const ProxyValue& value, const std::string& source, const EnvLookup& env,
                          std::string* warning);

}  // namespace aclkd
