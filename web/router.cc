#include "web/router.h"

#include <nlohmann/json.hpp>

namespace aclkd::web {

Router& Router::add(Route route) {
  routes_.push_back(std::move(route));
  return *this;
}

Router::Match Router::match(const HttpRequest& request) const& {
  const std::string path = request.target.substr(0, request.target.find('?'));
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  // An exact path wins over "*"; the method is checked after the path, so a known path with the
  // wrong method is 405 rather than 404.
  const Route* byPath = nullptr;
  const Route* byWildcard = nullptr;
  for (const auto& r : routes_) {
    if (r.path == path && (!byPath || r.method == method)) byPath = &r;
    if (r.path == "*" && (!byWildcard || r.method == method)) byWildcard = &r;
  }
  Match m;
  const Route* row = byPath ? byPath : byWildcard;
  if (!row) {
    m.status = 404;
    m.error = "no such path on this gateway";
  } else if (row->method != method) {
    m.status = 405;
    m.error = "only " + row->method + (row->method == "GET" ? " and HEAD" : "");
  } else {
    m.route = row;
  }
  return m;
}

std::string jsonError(const std::string& text) {
  // The text may quote a client's bytes, not always UTF-8: replaced (U+FFFD), never thrown on.
  return "{\"error\":" +
         nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "}";
}

}  // namespace aclkd::web
