#include "common/http_client.h"

#include <curl/curl.h>
#include <memory>
#include <mutex>
#include <openssl/x509.h>

namespace aclkd {
namespace {

struct Sink {
  std::string* body;
  size_t cap;
  bool overflow = false;
};

size_t onData(char* data, size_t size, size_t nmemb, void* userp) {
  auto* sink = static_cast<Sink*>(userp);
  const size_t n = size * nmemb;
  if (sink->body->size() + n > sink->cap) {
    sink->overflow = true;
    return 0;
  }
  sink->body->append(data, n);
  return n;
}

int onProgress(void* userp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(userp);
  return cancel->load() ? 1 : 0;
}

// A SOCKS5 proxy that refused our user name and password (or wanted some we did not give).
bool isSocksAuthRefusal(CURL* c) {
  long code = CURLPX_OK;
  if (curl_easy_getinfo(c, CURLINFO_PROXY_ERROR, &code) != CURLE_OK) return false;
  return code == CURLPX_USER_REJECTED || code == CURLPX_NO_AUTH || code == CURLPX_SEND_AUTH ||
         code == CURLPX_RECV_AUTH;
}

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

HttpClientResponse httpPerform(const HttpClientRequest& request) {
  globalInit();
  HttpClientResponse response;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    response.failure = HttpFailure::kOther;
    response.error = "cannot create a libcurl handle";
    return response;
  }
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  Sink sink{&response.body, request.maxBodyBytes};
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) {
    headers = curl_slist_append(headers, h.c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headerGuard(headers,
                                                                          curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMs);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.totalTimeoutMs);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // HTTP/1.1 only, as the agent speaks it (docs/protocol/aclk.md §4.2): libcurl would otherwise
  // offer h2 in ALPN and switch to HTTP/2 with a server that accepts it.
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  if (!request.caFile.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, request.caFile.c_str());
  }
  if (request.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  std::string proxyAuth;
  switch (request.proxyMode) {
    case HttpClientRequest::ProxyMode::kEnv: break;  // libcurl reads https_proxy/no_proxy itself
    case HttpClientRequest::ProxyMode::kNone: curl_easy_setopt(c, CURLOPT_PROXY, ""); break;
    case HttpClientRequest::ProxyMode::kExplicit: {
      const std::string proxyUrl = request.proxy.urlWithoutCredentials();
      curl_easy_setopt(c, CURLOPT_PROXY, proxyUrl.c_str());
      if (request.proxy.hasCredentials()) {
        curl_easy_setopt(c, CURLOPT_PROXYUSERNAME, request.proxy.user.c_str());
        curl_easy_setopt(c, CURLOPT_PROXYPASSWORD, request.proxy.password.c_str());
        curl_easy_setopt(c, CURLOPT_PROXYAUTH, CURLAUTH_BASIC);
      }
      break;
    }
  }
  if (request.cancel != nullptr) {
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, request.cancel);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }
  long connectCode = 0;
  curl_easy_getinfo(c, CURLINFO_HTTP_CONNECTCODE, &connectCode);
  const std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  const bool viaProxy = request.proxyMode == HttpClientRequest::ProxyMode::kExplicit;
  response.body.clear();
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    response.failure = HttpFailure::kCancelled;
    response.error = "request cancelled";
  } else if (sink.overflow) {
    response.failure = HttpFailure::kTooLarge;
    response.error = "response body larger than " + std::to_string(request.maxBodyBytes) + " bytes";
  } else if (connectCode == 401 || connectCode == 407) {
    response.failure = HttpFailure::kProxyAuth;
    response.error = "proxy refused the credentials (CONNECT answered " +
                     std::to_string(connectCode) + ")";
  } else if (rc == CURLE_PROXY && isSocksAuthRefusal(c)) {
    response.failure = HttpFailure::kProxyAuth;
    response.error = "proxy refused the credentials (SOCKS5: " + detail + ")";
  } else if (rc == CURLE_PROXY) {
    response.failure = HttpFailure::kProxyTunnel;
    response.error = "proxy could not open a tunnel to the cloud: " + detail;
  } else if (connectCode >= 300) {
    response.failure = HttpFailure::kProxyTunnel;
    response.error = "proxy could not open a tunnel to the cloud (CONNECT answered " +
                     std::to_string(connectCode) + ")";
  } else if (rc == CURLE_COULDNT_RESOLVE_PROXY ||
             (viaProxy && rc == CURLE_COULDNT_CONNECT)) {
    response.failure = HttpFailure::kProxyConnect;
    response.error = "proxy " + request.proxy.urlWithoutCredentials() + " is unreachable: " + detail;
  } else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
    response.failure = HttpFailure::kResolve;
    response.error = "cloud unreachable: " + detail;
  } else if (rc == CURLE_COULDNT_CONNECT) {
    response.failure = HttpFailure::kConnect;
    response.error = "cloud unreachable: " + detail;
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    response.failure = HttpFailure::kTimeout;
    response.error = "cloud unreachable: " + detail;
  } else if (rc == CURLE_PEER_FAILED_VERIFICATION
#if defined(CURLE_SSL_CACERT) && CURLE_SSL_CACERT != CURLE_PEER_FAILED_VERIFICATION
             || rc == CURLE_SSL_CACERT
#endif
  ) {
    long verify = 0;
    curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verify);
    response.failure = HttpFailure::kTlsVerify;
    response.error = std::string("TLS certificate verification failed: ") +
                     (verify != 0 ? X509_verify_cert_error_string(verify) : detail.c_str());
  } else if (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CERTPROBLEM ||
             rc == CURLE_SSL_CACERT_BADFILE) {
    response.failure = HttpFailure::kTls;
    response.error = "TLS failure: " + detail;
  } else {
    response.failure = HttpFailure::kOther;
    response.error = detail;
  }
  return response;
}

}  // namespace aclkd
