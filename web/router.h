#pragma once

#include <functional>
#include <string>
#include <vector>

#include "web/http_request.h"
#include "web/live_channels.h"

namespace aclkd::web {

struct HttpResponse {
  int code = 200;
  std::string contentType = "application/json";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// One row of the route table: a method and an exact path (the query string is not part of it;
// "*" matches every path no other row names) to either an HTTP handler answering once, or the
// live channels behind a WebSocket upgrade.
struct Route {
  std::string method;  // "GET" also serves HEAD (the same answer without the body)
  std::string path;
  HttpHandler http;    // set for an HTTP route
  ChannelData live;    // set for a WebSocket route
  // Set: who may use this route, instead of WebOptions::allowed (a Netdata child asks
  // /api/v3/stream_info under `allow streaming from`, not the operator's `allow connections from`).
  std::function<bool(const std::string& peerIp)> allowed = nullptr;
};

// The route table of the stream port's web side. The table is filled once at start-up by the
// daemon (handlers injected), then only read, from any thread.
class Router {
 public:
  Router& add(Route route);

  struct Match {
    const Route* route = nullptr;  // set when a row serves the request
    int status = 0;                // else 404 (no such path) or 405 (path known, method not)
    std::string error;             // why, as the JSON error text
  };
  // A Match points into the table: asking a temporary table is refused at compile time (the
  // answer would outlive it).
  Match match(const HttpRequest& request) const&;
  Match match(const HttpRequest& request) const&& = delete;

 private:
  std::vector<Route> routes_;
};

// A JSON error body: {"error":"<text>"}.
std::string jsonError(const std::string& text);

}  // namespace aclkd::web
