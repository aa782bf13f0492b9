#include "common/proxy.h"

#include <charconv>
#include <cstdlib>

#include "common/url.h"

namespace aclkd {

std::string ProxySetting::schemeName() const {
  switch (kind) {
    case ProxyKind::kHttp: return "http";
    case ProxyKind::kSocks5: return "socks5";
    case ProxyKind::kSocks5h: return "socks5h";
    case ProxyKind::kNone: break;
  }
  return "none";
}

std::string ProxySetting::urlWithoutCredentials() const {
  if (kind == ProxyKind::kNone) {
    return "";
  }
  return schemeName() + "://" + bracketedHost(host) + ":" + std::to_string(port);
}

std::string ProxySetting::display() const {
  if (kind == ProxyKind::kNone) {
    return "none";
  }
  return urlWithoutCredentials() + " (" +
         (hasCredentials() ? "with credentials" : "without credentials") + ", from " +
         (source.empty() ? "unknown" : source) + ")";
}

std::string ProxySetting::labelValue() const {
  switch (kind) {
    case ProxyKind::kHttp: return "HTTP";
    case ProxyKind::kSocks5: return "SOCKS5";
    case ProxyKind::kSocks5h: return "SOCKS5H";
    case ProxyKind::kNone: break;
  }
  return "none";
}

std::optional<ProxyValue> parseProxyValue(std::string_view value, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ProxyValue> {
    if (error) {
      *error = std::move(why);
    }
    return std::nullopt;
  };
  ProxyValue out;
  if (value.empty() || value == "none") {
    return out;
  }
  if (value == "env") {
    out.mode = ProxyValue::Mode::kEnv;
    return out;
  }
  ProxySetting& p = out.explicitProxy;
  const auto sep = value.find("://");
  if (sep == std::string_view::npos) {
    return fail("proxy must be none, env or scheme://host[:port]");
  }
  const std::string_view scheme = value.substr(0, sep);
  if (scheme == "http") {
    p.kind = ProxyKind::kHttp;
    p.port = 8080;
  } else if (scheme == "socks5") {
    p.kind = ProxyKind::kSocks5;
    p.port = 1080;
  } else if (scheme == "socks5h") {
    p.kind = ProxyKind::kSocks5h;
    p.port = 1080;
  } else {
    return fail("proxy scheme '" + std::string(scheme) + "' is not supported");
  }
  std::string_view rest = value.substr(sep + 3);
  while (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    p.user = percentDecode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
      p.password = percentDecode(userinfo.substr(colon + 1));
    }
    rest = rest.substr(at + 1);
  }
  std::string hostPortError;
  const auto hostPort = splitHostPort(rest, 1, &hostPortError);
  if (!hostPort) return fail("proxy: " + hostPortError);
  p.host = hostPort->host;
  if (hostPort->port) p.port = *hostPort->port;
  if (p.host.empty()) {
    return fail("proxy has no host");
  }
  if (p.host.find('/') != std::string::npos) {
    return fail("proxy must not have a path");
  }
  out.mode = ProxyValue::Mode::kExplicit;
  return out;
}

EnvLookup processEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) {
      return std::nullopt;
    }
    return std::string(v);
  };
}

ProxySetting resolveProxy(const ProxyValue& value, const std::string& source, const EnvLookup& env,
                          std::string* warning) {
  if (value.mode == ProxyValue::Mode::kExplicit) {
    ProxySetting p = value.explicitProxy;
    p.source = source;
    return p;
  }
  if (value.mode == ProxyValue::Mode::kNone) {
    return {};
  }
  for (const char* name : {"http_proxy", "https_proxy"}) {
    const auto v = env(name);
    if (!v || v->empty()) {
      continue;
    }
    std::string error;
    const auto parsed = parseProxyValue(*v, &error);
    if (!parsed || parsed->mode != ProxyValue::Mode::kExplicit) {
      if (warning) {
        *warning = std::string("environment variable '") + name + "' is not a usable proxy: " +
                   (error.empty() ? "unsupported value" : error);
      }
      return {};
    }
    ProxySetting p = parsed->explicitProxy;
    p.source = std::string("environment variable '") + name + "'";
    return p;
  }
  return {};
}

}  // namespace aclkd
