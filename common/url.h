#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aclkd {

// The parts of an http(s)/ws(s) URL that the gateway connects to.
struct Url {
  std::string scheme;  // lowercase: http, https, ws, wss
  std::string host;    // without brackets for IPv6 literals
  int port = 0;        // explicit, or the scheme's default
  std::string path;    // starts with '/', "/" when absent (query included)

  // scheme://host[:port] with the port only when it is not the default.
  std::string origin() const;
  // host:port, always with the port (an HTTP request line, CONNECT).
  std::string hostPort() const;
};

// An authority's host and port as RFC 3986 writes them: "host", "host:port", "[v6]" or
// "[v6]:port". An IPv6 literal needs its brackets, so "h:1:2" is a bad port, never a host; the
// one parser of host:port for URLs, proxies and `[web] bind to`.
struct HostPort {
  std::string host;         // without the brackets of an IPv6 literal
  std::optional<int> port;  // absent when the text has none
};
// A port below `minPort` (or above 65535, or not digits) is an error; errors name the problem
// only ("empty port", "invalid port '80x' (expected 1..65535)"): the caller says where.
std::optional<HostPort> splitHostPort(std::string_view text, int minPort, std::string* error);

// A host as it goes into a URL or a Host header: an IPv6 literal in brackets.
std::string bracketedHost(std::string_view host);

std::optional<Url> parseUrl(std::string_view text, std::string* error);

// base + path with exactly one '/' between them (the claim and env URLs are built this way).
std::string joinUrl(std::string_view base, std::string_view path);

std::string percentDecode(std::string_view text);

}  // namespace aclkd
