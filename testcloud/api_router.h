#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace aclkd::testcloud {

// One HTTP request as the endpoints see it. Transport-neutral on purpose: endpoints are plain
// functions of this, so they can be unit-tested without a socket or an lws context.
struct Request {
  std::string method;  // upper case: GET, PUT, POST, ...
  std::string path;    // URL-decoded, without the query
  std::map<std::string, std::string> query;    // decoded `name=value` arguments
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::map<std::string, std::string> params;   // `{name}` path segments, filled by the router

  // The header's value, or "" when absent; `name` in lower case.
  std::string header(std::string_view name) const;
  std::string param(std::string_view name) const;
};

struct Reply {
  int status = 200;
  std::string contentType;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Allow
};

using Handler = std::function<Reply(const Request&)>;

Reply jsonReply(int status, const nlohmann::ordered_json& body);
// `{"errorMsgKey": key, "errorMessage": message}`, the shape of every cloud error; the message is
// left out when empty (the 503 fault body is only the key, as the cloud's is).
Reply errorReply(int status, std::string_view key, std::string_view message = {});
Reply textReply(int status, std::string body);
Reply noContent();

// A route table: method + path pattern -> handler. A pattern segment `{name}` matches any one
// non-empty segment and is handed to the handler as request.params[name]. An unknown path answers
// 404 ErrNotFound; a known path with another method answers 405 with an Allow header. HEAD runs
// the GET route.
class ApiRouter {
 public:
  void add(std::string method, std::string_view pattern, Handler handler);

  // Fills request.params of the matching route and runs it. Exceptions from a handler become 500
  // ErrInternalServerError: a test cloud bug must not take the server down.
  Reply dispatch(Request& request) const;

 private:
  struct PatternRoute {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const PatternRoute& route, const std::vector<std::string_view>& segments,
                    std::map<std::string, std::string>* params);

  std::vector<PatternRoute> routes_;
};

}  // namespace aclkd::testcloud
