#include "aclk/cloud_login.h"

#include <spdlog/spdlog.h>

namespace aclkd::aclk {
namespace {

// One login attempt: the snapshot and options it runs with, and the outcome it fills.
class Login {
 public:
  Login(const claim::ClaimSnapshot& snap, const CloudLoginOptions& o, CloudLogin* out)
      : snap_(snap), o_(o), out_(out) {}

  void run(const Url& cloud) {

    // /env
    HttpClientRequest envReq = baseRequest();
    envReq.url = cloud.scheme + "://" + cloud.hostPort() + envPath(versionWithoutV(), snap_.claimedId);
    auto envResp = https(envReq, cloud);
    if (!envResp) {
      spdlog::warn("ACLK: failed to get ACLK environment (cannot contact ENV endpoint)");
      return;
    }
    StepFailure failure;
    const auto env = interpretEnvResponse(envResp->status, envResp->body, &failure);
    if (!env) {
      stepFailed(failure);
      return;
    }
    out_->backoff = env->backoff;

    // OTP challenge
    const Url& auth = env->authEndpoint;
    std::string authPath = auth.path;
    while (!authPath.empty() && authPath.back() == '/') authPath.pop_back();
    HttpClientRequest chReq = baseRequest();
    chReq.url = auth.scheme + "://" + auth.hostPort() + challengePath(authPath, snap_.claimedId);
    auto chResp = https(chReq, auth);
    if (!chResp) return;
    const auto challenge = interpretChallengeResponse(chResp->status, chResp->body, &failure);
    if (!challenge) {
      stepFailed(failure);
      return;
    }
    std::string decryptError;
    const auto secret = snap_.key->decryptOaepSha1(*challenge, &decryptError);
    if (!secret) {
      setStatus(AclkStatus::kOtpChallengeDecryptFailed);
      spdlog::warn("ACLK: Decryption of the challenge failed: {}", decryptError);
      return;
    }

    // OTP password
    HttpClientRequest pwReq = baseRequest();
    pwReq.method = "POST";
    pwReq.url = auth.scheme + "://" + auth.hostPort() + passwordPath(authPath, snap_.claimedId);
    pwReq.body = buildPasswordBody(o_.agentVersion, *secret);
    auto pwResp = https(pwReq, auth);
    if (!pwResp) return;
    auto creds = interpretPasswordResponse(pwResp->status, pwResp->body, snap_.claimedId, &failure);
    if (!creds) {
      stepFailed(failure);
      return;
    }
    out_->credentials = std::move(*creds);
    out_->mqttEndpoint = env->mqttEndpoint;
  }

 private:
  void setStatus(AclkStatus s) const {
    if (o_.setStatus) o_.setStatus(s);
  }

  HttpClientRequest baseRequest() const {
    HttpClientRequest r;
    r.headers = {"User-Agent: Netdata/rocks newhttpclient", "Accept:", "Content-Type:"};
    r.caFile = o_.caFile;
    r.insecure = snap_.insecure;
    r.connectTimeoutMs = 10000;
    r.totalTimeoutMs = 30000;
    r.cancel = o_.cancel;
    if (snap_.proxy.kind == ProxyKind::kNone) {
      r.proxyMode = HttpClientRequest::ProxyMode::kNone;
    } else {
      r.proxyMode = HttpClientRequest::ProxyMode::kExplicit;
      r.proxy = snap_.proxy;
    }
    return r;
  }

  // One HTTPS step. Returns nullopt (status set, reason logged) when it produced no answer.
  std::optional<HttpClientResponse> https(const HttpClientRequest& request,
                                          const Url& target) const {
    // `Host: <host>` without the port, as the agent's HTTPS client sends it (docs/protocol/aclk.md
    // §4.2); libcurl's own adds the port when it is not the scheme's default.
    HttpClientRequest req = request;
    req.headers.push_back("Host: " + bracketedHost(target.host));
    HttpClientResponse resp = o_.http ? o_.http(req) : httpPerform(req);
    if (resp.failure == HttpFailure::kCancelled) {
      return std::nullopt;
    }
    if (resp.failure != HttpFailure::kNone) {
      setStatus(statusForHttpFailure(resp.failure));
      spdlog::warn("ACLK: HTTPS \"{}\" request to \"{}\" failed: {}", req.method, target.host,
                   resp.error);
      return std::nullopt;
    }
    spdlog::info("ACLK: HTTPS \"{}\" request to \"{}\" finished with HTTP code: {}", req.method,
                 target.host, resp.status);
    return resp;
  }

  void stepFailed(const StepFailure& failure) {
    setStatus(failure.status);
    spdlog::warn("ACLK: {}", failure.reason);
    if (failure.cloudError) {
      spdlog::warn("{}", describeCloudError(*failure.cloudError));
      out_->cloudError = failure.cloudError;
    }
  }

  std::string versionWithoutV() const {
    const auto& v = o_.agentVersion;
    return !v.empty() && v[0] == 'v' ? v.substr(1) : v;
  }

  const claim::ClaimSnapshot& snap_;
  const CloudLoginOptions& o_;
  CloudLogin* out_;
};

}  // namespace

CloudLogin loginToCloud(const claim::ClaimSnapshot& snap, const Url& cloud,
                        const CloudLoginOptions& options) {
  CloudLogin out;
  Login(snap, options, &out).run(cloud);
  return out;
}

}  // namespace aclkd::aclk
