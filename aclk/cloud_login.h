#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "aclk/backoff.h"
#include "aclk/env.h"
#include "aclk/otp.h"
#include "aclk/status_strings.h"
#include "claim/claim_manager.h"
#include "common/http_client.h"
#include "common/url.h"

namespace aclkd::aclk {

struct CloudLoginOptions {
  std::string caFile;        // empty: the system trust store
  std::string agentVersion;  // with the leading 'v'
  const std::atomic<bool>* cancel = nullptr;
  HttpSend http;  // empty: httpPerform
  // The docs/protocol/aclk.md §11.1 status of a failed step, reported before the step's log lines.
  std::function<void(AclkStatus)> setStatus;
};

// The outcome of the three HTTPS steps before MQTT (docs/protocol/aclk.md §4.3, §4.4).
struct CloudLogin {
  std::optional<Url> mqttEndpoint;  // set when every step succeeded
  MqttCredentials credentials;
  std::optional<BackoffParams> backoff;      // what /env said, when it answered
  std::optional<CloudErrorBody> cloudError;  // a failed step's error body (ban, retry delay)
};

// GET /env, GET the OTP challenge, decrypt it with the claim's key, POST the password. Each
// step: libcurl with 10 s connect and 30 s total; a failure is logged and its status reported
// through options.setStatus. The caller applies backoff and cloudError (ban, block-until).
// `cloud` is snap.cloudUrl, parsed by the caller (which refuses an invalid one).
CloudLogin loginToCloud(const claim::ClaimSnapshot& snap, const Url& cloud,
                        const CloudLoginOptions& options);

}  // namespace aclkd::aclk
