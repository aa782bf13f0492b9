#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/proxy.h"

namespace aclkd {

// Why an HTTPS exchange produced no HTTP answer. Each maps to a message that names the cause.
enum class HttpFailure {
  kNone,
  kResolve,         // cloud host name did not resolve
  kConnect,         // cloud refused / unreachable
  kTimeout,
  kTlsVerify,       // certificate verification failed; `error` carries the X.509 reason
  kTls,             // other TLS failure
  kProxyConnect,    // proxy refused or unreachable
  kProxyAuth,       // proxy answered 401/407
  kProxyTunnel,     // proxy answered CONNECT with another error
  kTooLarge,        // response body over the cap
  kCancelled,       // HttpClientRequest::cancel was raised
  kOther,
};

// One request the gateway sends as an HTTPS client (/env, OTP, claim; web/ has the requests it
// receives: web::HttpRequest).
struct HttpClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::string caFile;  // empty: the system trust store
  bool insecure = false;
  // kEnv lets libcurl apply https_proxy/no_proxy itself (claiming's documented behaviour).
  enum class ProxyMode { kEnv, kNone, kExplicit } proxyMode = ProxyMode::kNone;
  ProxySetting proxy;  // when kExplicit
  long connectTimeoutMs = 5000;
  long totalTimeoutMs = 10000;
  size_t maxBodyBytes = 10u << 20;
  // When set and true, the exchange is abandoned within about a second (daemon shutdown must not
  // wait out a 30 s request budget).
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpClientResponse {
  long status = 0;  // 0 when failure != kNone
  std::string body;
  HttpFailure failure = HttpFailure::kNone;
  std::string error;  // human text naming the cause; never contains credentials
};

// One blocking HTTPS exchange through libcurl (short-lived: every call is its own connection, as
// the agent's /env, OTP and claim calls are).
HttpClientResponse httpPerform(const HttpClientRequest& request);
// An HTTPS client as a value (httpPerform, or a fake cloud in tests).
using HttpSend = std::function<HttpClientResponse(const HttpClientRequest&)>;

}  // namespace aclkd
