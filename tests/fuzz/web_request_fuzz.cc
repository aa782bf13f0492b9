// libFuzzer target: a local client's request head on the stream port (web/), as the web side reads
// it: Boost.Beast's parser with the server's header limit, fed in pieces as a socket would, then
// toHttpRequest, the route table (the daemon's rows: /live, /api/v3/stream_info, everything else)
// and the gateway's own API (daemon/local_api.h routeHttp, on an empty snapshot) or the
// stream_info query. A refused head gets its status.
// Besides "never crash": a refused head is answered 400 or 431, a routed one 2xx-5xx.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/local_api.h"
#include "stream_bridge/stream_info.h"
#include "web/http_request.h"
#include "web/router.h"

using namespace aclkd;
namespace http = boost::beast::http;

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;  // web::WebOptions' default

const web::Router& routes() {
  static const web::Router table = [] {
    web::Router r;
    r.add({"GET", "/live", {}, [](const std::string&, web::ChannelRender, std::string*) {
             return std::optional<std::string>("{}");
           }});
    r.add({"GET", "/api/v3/stream_info",
           [](const web::HttpRequest& req) {
             return web::HttpResponse{200, "application/json",
                                      stream_bridge::streamInfoMachineGuid(req.target)};
           },
           {}});
    r.add({"GET", "*",
           [](const web::HttpRequest& req) {
             const auto local = daemon::routeHttp(req.method, req.target, true, [](daemon::SurfaceDepth) {
               return daemon::SurfaceSnapshot{};
             });
             return web::HttpResponse{local.code, local.contentType, local.body};
           },
           {}});
    return r;
  }();
  return table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t piece = size > 0 ? data[0] % 64 + 1 : 1;

  http::request_parser<http::empty_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.eager(false);
  boost::system::error_code ec;
  std::string buffered;
  for (size_t at = 0; at < size && !parser.is_header_done(); at += piece) {
    buffered.append(input.substr(at, piece));
    const size_t used = parser.put(boost::asio::buffer(buffered), ec);
    buffered.erase(0, used);
    if (ec == http::error::need_more) {
      ec = {};
      continue;
    }
    if (ec) break;
  }
  if (ec) {
    std::string error;
    const int status = web::statusOfParseError(ec, kHeaderLimit, &error);
    if ((status != 400 && status != 431) || error.empty()) __builtin_trap();
    return 0;
  }
  if (!parser.is_header_done()) return 0;  // the client has more to send

  const web::HttpRequest req = web::toHttpRequest(parser.get());
  (void)req.wantsWebSocket();
  const auto match = routes().match(req);
  if (!match.route) {
    if (match.status != 404 && match.status != 405) __builtin_trap();
    return 0;
  }
  if (match.route->http) {
    const auto answer = match.route->http(req);
    if (answer.code < 200 || answer.code > 599) __builtin_trap();
  }
  return 0;
}
