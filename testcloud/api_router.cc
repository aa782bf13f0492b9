#include "testcloud/api_router.h"

#include <exception>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace aclkd::testcloud {
namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string Request::header(std::string_view name) const {
  const auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::param(std::string_view name) const {
  const auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

Reply jsonReply(int status, const nlohmann::ordered_json& body) {
  return Reply{status, "application/json", body.dump(), {}};
}

Reply errorReply(int status, std::string_view key, std::string_view message) {
  nlohmann::ordered_json body;
  body["errorMsgKey"] = key;
  if (!message.empty()) {
    body["errorMessage"] = message;
  }
  return Reply{status, "application/json", body.dump(), {}};
}

Reply textReply(int status, std::string body) {
  return Reply{status, "text/plain", std::move(body), {}};
}

Reply noContent() { return Reply{204, "", "", {}}; }

void ApiRouter::add(std::string method, std::string_view pattern, Handler handler) {
  PatternRoute route;
  route.method = std::move(method);
  for (auto segment : splitPath(pattern)) {
    route.segments.emplace_back(segment);
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

bool ApiRouter::match(const PatternRoute& route, const std::vector<std::string_view>& segments,
                      std::map<std::string, std::string>* params) {
  if (route.segments.size() != segments.size()) {
    return false;
  }
  std::map<std::string, std::string> captured;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& want = route.segments[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      if (segments[i].empty()) {
        return false;
      }
      captured[want.substr(1, want.size() - 2)] = std::string(segments[i]);
    } else if (want != segments[i]) {
      return false;
    }
  }
  if (params) {
    *params = std::move(captured);
  }
  return true;
}

Reply ApiRouter::dispatch(Request& request) const {
  const auto segments = splitPath(request.path);
  std::string allowed;
  for (const auto& route : routes_) {
    if (!match(route, segments, nullptr)) {
      continue;
    }
    // HEAD is GET without the body; the transport drops the body.
    const bool head = request.method == "HEAD" && route.method == "GET";
    if (route.method != request.method && !head) {
      allowed += (allowed.empty() ? "" : ", ") + route.method;
      continue;
    }
    match(route, segments, &request.params);
    try {
      return route.handler(request);
    } catch (const std::exception& e) {
      spdlog::error("{} {} failed: {}", request.method, request.path, e.what());
      return errorReply(500, "ErrInternalServerError", e.what());
    }
  }
  if (!allowed.empty()) {
    Reply reply = errorReply(405, "ErrMethodNotAllowed",
                             "method " + request.method + " is not allowed on " + request.path);
    reply.headers.emplace_back("Allow", allowed);
    return reply;
  }
  return errorReply(404, "ErrNotFound");
}

}  // namespace aclkd::testcloud
