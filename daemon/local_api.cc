#include "daemon/local_api.h"

#include <nlohmann/json.hpp>

#include "daemon/metrics.h"
#include "daemon/status_page.h"
#include "daemon/surface_json.h"

namespace aclkd::daemon {
namespace {

struct LocalEndpoint {
  std::string_view path;
  std::string_view contentType;
  // kPage: the status page, with the state once ready (never 503: it says it is starting);
  // the others: 503 while starting, and the snapshot as deep as `depth`.
  enum Shows { kPage, kState } shows;
  SurfaceDepth depth;
  std::string (*render)(const SurfaceSnapshot&);  // not for kPage: renderStatusPage
};

constexpr std::string_view kJson = "application/json";

const LocalEndpoint kEndpoints[] = {
    {"/", "text/html; charset=utf-8", LocalEndpoint::kPage, SurfaceDepth::kNodes, nullptr},
    {"/index.html", "text/html; charset=utf-8", LocalEndpoint::kPage, SurfaceDepth::kNodes, nullptr},
    {"/api/v1/aclk", kJson, LocalEndpoint::kState, SurfaceDepth::kNodes,
     [](const SurfaceSnapshot& s) { return aclk::renderAclkStateJson(s.state); }},
    {"/api/v3/info", kJson, LocalEndpoint::kState, SurfaceDepth::kNodes, renderInfoJson},
    {"/healthz", kJson, LocalEndpoint::kState, SurfaceDepth::kHealth, renderHealthJson},
    {"/metrics", "text/plain; version=0.0.4; charset=utf-8", LocalEndpoint::kState,
     SurfaceDepth::kCountsAndStreams, renderMetrics},
};

}  // namespace

aclk::LocalHttpResponse routeHttp(const std::string& method, const std::string& target,
                                  bool ready,
                                  const std::function<SurfaceSnapshot(SurfaceDepth)>& snapshot) {
  aclk::LocalHttpResponse r;
  const std::string bare = target.substr(0, target.find('?'));
  if (method != "GET") {
    r.code = 405;
    r.body = R"({"error":"only GET"})";
    return r;
  }
  for (const auto& route : kEndpoints) {
    if (route.path != bare) continue;
    if (route.shows != LocalEndpoint::kPage && !ready) {
      r.code = 503;
      r.body = R"({"error":"aclkd is starting"})";
      return r;
    }
    r.contentType = std::string(route.contentType);
    if (route.shows == LocalEndpoint::kPage) {
      // Without the stream views: the page's tables need none, and a page load must not wait on
      // a busy stream loop (the script gets the streams from the live channel).
      r.body = renderStatusPage(ready ? snapshot(route.depth) : SurfaceSnapshot{}, ready);
      return r;
    }
    r.body = route.render(snapshot(route.depth));
    return r;
  }
  r.code = 404;
  r.body = "{\"error\":\"no such API path on this gateway\",\"path\":" +
           // The client's bytes, not always UTF-8: replaced (U+FFFD) rather than thrown on.
           nlohmann::json(bare).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "}";
  return r;
}

}  // namespace aclkd::daemon
