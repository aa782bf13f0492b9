#include "web/http_request.h"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <cctype>

namespace aclkd::web {
namespace {

namespace http = boost::beast::http;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string HttpRequest::header(const std::string& lowerName) const {
  const auto it = headers.find(lowerName);
  return it == headers.end() ? std::string() : it->second;
}

bool HttpRequest::wantsWebSocket() const {
  return method == "GET" && target == "/live" && lower(header("upgrade")) == "websocket" &&
         !header("sec-websocket-key").empty();
}

HttpParse parseHttpRequest(std::string_view bytes, size_t headerLimit) {
  HttpParse out;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(headerLimit));
  parser.eager(false);  // the head only
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec == http::error::need_more) {
    if (bytes.size() > headerLimit) {
      out.status = 431;
      out.error = "request headers over " + std::to_string(headerLimit) + " bytes";
    }
    return out;
  }
  if (ec == http::error::header_limit) {
    out.status = 431;
    out.error = "request headers over " + std::to_string(headerLimit) + " bytes";
    return out;
  }
  if (ec || !parser.is_header_done()) {
    out.status = 400;
    out.error = "malformed HTTP request: " + (ec ? ec.message() : std::string("incomplete"));
    return out;
  }
  const auto& msg = parser.get();
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) {
    req.headers.emplace(lower(field.name_string()), std::string(field.value()));
  }
  out.request = std::move(req);
  return out;
}

}  // namespace aclkd::web
