#include "common/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/text.h"

namespace aclkd {

std::string Url::origin() const {
  const bool defaultPort = ((scheme == "https" || scheme == "wss") && port == 443) ||
                           ((scheme == "http" || scheme == "ws") && port == 80);
  std::string out = scheme + "://" + bracketedHost(host);
  if (!defaultPort) {
    out += ":" + std::to_string(port);
  }
  return out;
}

std::string Url::hostPort() const { return bracketedHost(host) + ":" + std::to_string(port); }

std::string bracketedHost(std::string_view host) {
  return host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]"
                                                   : std::string(host);
}

std::optional<HostPort> splitHostPort(std::string_view text, int minPort, std::string* error) {
  HostPort out;
  std::string_view portText;
  bool hasPort = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      *error = "unterminated IPv6 literal";
      return std::nullopt;
    }
    out.host = std::string(text.substr(1, close - 1));
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        *error = "garbage after IPv6 literal";
        return std::nullopt;
      }
      hasPort = true;
      portText = text.substr(close + 2);
    }
  } else {
    const auto colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    hasPort = colon != std::string_view::npos;
    if (hasPort) portText = text.substr(colon + 1);
  }
  if (hasPort) {
    if (portText.empty()) {
      *error = "empty port";
      return std::nullopt;
    }
    int port = 0;
    const auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (ec != std::errc() || ptr != portText.data() + portText.size() || port < minPort ||
        port > 65535) {
      *error = "invalid port '" + std::string(portText) + "' (expected " +
               std::to_string(minPort) + "..65535)";
      return std::nullopt;
    }
    out.port = port;
  }
  return out;
}

std::optional<Url> parseUrl(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Url> {
    if (error) {
      *error = std::move(why);
    }
    return std::nullopt;
  };
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return fail("'" + std::string(text) + "' has no scheme (expected https://host)");
  }
  Url url;
  url.scheme = asciiLower(text.substr(0, sep));
  if (url.scheme == "https" || url.scheme == "wss") {
    url.port = 443;
  } else if (url.scheme == "http" || url.scheme == "ws") {
    url.port = 80;
  } else {
    return fail("unsupported scheme '" + url.scheme + "' in '" + std::string(text) + "'");
  }
  std::string_view rest = text.substr(sep + 3);
  const auto pathStart = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, pathStart);
  url.path = pathStart == std::string_view::npos ? "/" : std::string(rest.substr(pathStart));
  if (!url.path.empty() && url.path.front() == '?') {
    url.path = "/" + url.path;
  }
  if (authority.find('@') != std::string_view::npos) {
    return fail("credentials are not allowed in '" + std::string(text) + "'");
  }
  std::string hostPortError;
  const auto hostPort = splitHostPort(authority, 1, &hostPortError);
  if (!hostPort) return fail(hostPortError + " in '" + std::string(text) + "'");
  url.host = hostPort->host;
  if (hostPort->port) url.port = *hostPort->port;
  if (url.host.empty()) {
    return fail("no host in '" + std::string(text) + "'");
  }
  for (const char c : url.host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
          c == ':')) {
      return fail("invalid character in host of '" + std::string(text) + "'");
    }
  }
  return url;
}

std::string joinUrl(std::string_view base, std::string_view path) {
  std::string out(base);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  if (path.empty() || path.front() != '/') {
    out += '/';
  }
  out += path;
  return out;
}

std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    // Both digits are checked first: from_chars alone would take a sign ("%-1").
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      int v = 0;
      const auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, v, 16);
      if (ec == std::errc() && ptr == text.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace aclkd
