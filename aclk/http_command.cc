#include "aclk/http_command.h"

#include "aclk/cmd_handler.h"

#include <array>
#include <ctime>

#include <nlohmann/json.hpp>

namespace aclkd::aclk {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kSeparator = "\r\n\r\n";
constexpr int kMinVersion = 2;

}  // namespace

const char* httpReasonPhrase(int code) {
  switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 499: return "Client Closed Request";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

namespace {

std::string httpDate(int64_t nowUs) {
  const time_t t = static_cast<time_t>(nowUs / 1000000);
  struct tm tmv {};
  gmtime_r(&t, &tmv);
  std::array<char, 64> buf{};
  strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S GMT", &tmv);
  return buf.data();
}

ordered_json headerStart(const std::string& msgId, int64_t nowUs) {
  ordered_json h;
  h["type"] = "http";
  h["msg-id"] = msgId;
  h["timestamp"] = nowUs / 1000000;
  h["timestamp-offset-usec"] = nowUs % 1000000;
  return h;
}

// Reads the request line of the raw HTTP part: "<METHOD> /<path> HTTP/1.1\r\n".
bool parseRequestLine(std::string_view raw, CloudHttpRequest* req, std::string* error) {
  static constexpr std::array<std::string_view, 4> kMethods = {"GET", "POST", "PUT", "DELETE"};
  for (const auto m : kMethods) {
    if (raw.size() > m.size() + 1 && raw.substr(0, m.size()) == m && raw[m.size()] == ' ' &&
        raw[m.size() + 1] == '/') {
      req->method = std::string(m);
      break;
    }
  }
  if (req->method.empty()) {
    *error = "raw request: the request line must start with GET /, POST /, PUT / or DELETE /";
    return false;
  }
  const auto lineEnd = raw.find("\r\n");
  const auto proto = raw.find(" HTTP/1.1\r\n");
  if (lineEnd == std::string_view::npos || proto == std::string_view::npos || proto + 9 != lineEnd) {
    *error = "raw request: the request line must end with \" HTTP/1.1\\r\\n\"";
    return false;
  }
  const auto pathStart = req->method.size() + 1;
  req->path = std::string(raw.substr(pathStart, proto - pathStart));
  if (req->path.find(' ') != std::string::npos) {
    *error = "raw request: the path contains a space";
    return false;
  }
  return true;
}

}  // namespace

CmdParse parseCmd(std::string_view payload) {
  CmdParse out;
  const auto sep = payload.find(kSeparator);
  if (sep == std::string_view::npos) {
    out.error = "no \\r\\n\\r\\n separator after the JSON header";
    // Still try to read the header for a reply address.
  }
  const auto headerText = payload.substr(0, sep);
  const auto header = nlohmann::json::parse(headerText, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    if (out.error.empty()) out.error = "the JSON header is not a JSON object";
    return out;
  }
  if (auto it = header.find("msg-id"); it != header.end() && it->is_string()) {
    out.msgId = it->get<std::string>();
  }
  if (auto it = header.find("callback-topic"); it != header.end() && it->is_string()) {
    const auto topic = it->get<std::string>();
    if (!topic.empty() && topic[0] == '/') out.callbackTopic = topic;
  }
  if (!out.error.empty()) return out;

  const auto field = [&](const char* name) -> const nlohmann::json* {
    auto it = header.find(name);
    return it == header.end() ? nullptr : &*it;
  };
  const auto* type = field("type");
  if (!type || !type->is_string() || type->get<std::string>() != "http") {
    out.error = "field 'type': must be the string \"http\"";
    return out;
  }
  const auto* msgId = field("msg-id");
  if (!msgId || !msgId->is_string() || msgId->get<std::string>().empty()) {
    out.error = "field 'msg-id': missing or not a non-empty string";
    return out;
  }
  const auto* topic = field("callback-topic");
  if (!topic || !topic->is_string() || out.callbackTopic.empty()) {
    out.error = "field 'callback-topic': missing or not a string starting with '/'";
    return out;
  }
  const auto* version = field("version");
  if (!version || !version->is_number_integer() || version->get<int64_t>() < kMinVersion) {
    out.error = "field 'version': missing or below 2";
    return out;
  }
  CloudHttpRequest req;
  req.msgId = out.msgId;
  req.callbackTopic = out.callbackTopic;
  if (const auto* timeout = field("timeout")) {
    // A float out of int64's range would make the conversion undefined: bound it first.
    if (!timeout->is_number() || timeout->get<double>() < 0 || timeout->get<double>() > 1e12) {
      out.error = "field 'timeout': not a number of milliseconds in 0..1e12";
      return out;
    }
    req.timeoutMs = static_cast<int64_t>(timeout->get<double>());
  }
  req.rawRequest = std::string(payload.substr(sep + kSeparator.size()));
  if (!parseRequestLine(req.rawRequest, &req, &out.error)) return out;
  out.request = std::move(req);
  return out;
}

std::string formatLocalHttpResponse(const LocalHttpResponse& response, int64_t nowUs) {
  std::string out = "HTTP/1.1 " + std::to_string(response.code) + " " +
                    httpReasonPhrase(response.code) + "\r\n";
  out += "Connection: close\r\n";
  out += "Content-Type: " + response.contentType + "\r\n";
  out += "Date: " + httpDate(nowUs) + "\r\n";
  out += "Cache-Control: no-cache, no-store, must-revalidate\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  out += response.body;
  return out;
}

std::string buildCmdResultReply(const std::string& msgId, const CmdResult& result,
                                int64_t sessionIdUs, int64_t nowUs, int64_t execUs) {
  if (result.errorCode != 0) {
    return buildCmdErrorReply(msgId, result.httpCode, result.errorCode, result.errorDescription,
                              nowUs);
  }
  auto h = headerStart(msgId, nowUs);
  h["connect"] = sessionIdUs / 1000000;
  h["connect-offset-usec"] = sessionIdUs % 1000000;
  h["version"] = kMinVersion;
  h["t-exec"] = execUs;
  h["t-rx"] = 0;
  h["http-code"] = result.httpCode;
  std::string out = h.dump();
  out += kSeparator;
  out += result.httpResponse;
  return out;
}

std::string buildCmdReply(const std::string& msgId, const LocalHttpResponse& response,
                          int64_t sessionIdUs, int64_t nowUs, int64_t execUs) {
  CmdResult result;
  result.httpCode = response.code;
  result.httpResponse = formatLocalHttpResponse(response, nowUs);
  return buildCmdResultReply(msgId, result, sessionIdUs, nowUs, execUs);
}

std::string buildCmdErrorReply(const std::string& msgId, int httpCode, int errorCode,
                               const std::string& description, int64_t nowUs) {
  auto h = headerStart(msgId, nowUs);
  h["version"] = kMinVersion;
  h["http-code"] = httpCode;
  h["error-code"] = errorCode;
  h["error-description"] = description;
  return h.dump();
}

std::string buildCmdBadRequestReply(const std::string& msgId, int64_t nowUs) {
  auto h = headerStart(msgId, nowUs);
  h["version"] = kMinVersion;
  h["http-code"] = 400;
  return h.dump();
}

}  // namespace aclkd::aclk
