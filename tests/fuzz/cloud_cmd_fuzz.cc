// libFuzzer target: the cloud's `cmd` requests (aclk/http_command.h parseCmd: a JSON header,
// "\r\n\r\n", a raw HTTP/1.1 request) through CmdRequests as the link answers them, and the
// parsed request through the query proxy's readers (query/cloud_path.h, query/request_parts.h,
// query/function_route.h): the route and node ids in its path, its headers and body, the
// function it asks for and who asks. The gateway's own API (daemon/local_api.h routeHttp)
// answers, as it does for the gateway's node.
// Besides "never crash": every reply is a JSON header that parses, a malformed request says why,
// and no header that reaches an agent or a stream line holds a line break.

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "aclk/cmd_requests.h"
#include "daemon/local_api.h"
#include "query/cloud_path.h"
#include "query/function_route.h"
#include "query/request_parts.h"

using namespace aclkd;

namespace {

void checkReply(const std::string& payload) {
  const auto sep = payload.find("\r\n\r\n");
  const auto header = nlohmann::json::parse(payload.substr(0, sep), nullptr, false);
  if (!header.is_object() || !header.contains("msg-id")) __builtin_trap();
}

void readForTheAgent(const aclk::CloudHttpRequest& req) {
  const query::CloudPathTarget route = query::routeCloudPath(req.path);
  (void)query::isApiPath(route.rest);
  std::map<std::string, std::string> guidOf;
  for (const auto& id : route.scopeIds) guidOf[id] = "11111111-2222-4333-8444-555555555555";
  (void)query::rewriteScopeIds(route.rest, guidOf);
  (void)query::parseFunctionAsk(route.rest);

  const auto parts = query::splitRawRequest(req.rawRequest);
  for (const auto& line : query::filterHeaders(parts.headers, {"x-forwarded-for", "cookie"})) {
    if (line.find_first_of("\r\n") != std::string::npos) __builtin_trap();
  }
  // The source goes into a stream line (FUNCTION ... "<source>"): nothing may end it.
  const auto caller = query::callerIdentity(parts.headers);
  if (caller.source.find_first_of(std::string_view("\"\r\n\0", 4)) != std::string::npos) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // every malformed request is logged
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string payload(reinterpret_cast<const char*>(data), size);
  const auto parsed = aclk::parseCmd(payload);
  if (!parsed.request && parsed.error.empty()) __builtin_trap();
  if (parsed.request) readForTheAgent(*parsed.request);

  // The link's synchronous path (no CmdHandler): the gateway's own API answers (on an empty
  // snapshot), a reply is published.
  int replies = 0;
  aclk::CmdRequests cmds(
      [](const std::string& method, const std::string& path) {
        const auto snapshot = [](daemon::SurfaceDepth) { return daemon::SurfaceSnapshot{}; };
        return daemon::routeHttp(method, path, true, snapshot);
      },
      nullptr,
      [&replies](const std::string& topic, const std::string& reply) {
        if (topic.empty() || topic[0] != '/') __builtin_trap();
        checkReply(reply);
        ++replies;
        return uint64_t{1};
      },
      [](aclk::CmdRequests::Answer&&) {});
  const bool ok = cmds.handle(payload, 1);
  if (ok != parsed.request.has_value()) __builtin_trap();
  if (replies != (ok || !parsed.callbackTopic.empty() ? 1 : 0)) __builtin_trap();
  return 0;
}
