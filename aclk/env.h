#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aclk/backoff.h"
#include "aclk/status_strings.h"
#include "common/url.h"

namespace aclkd::aclk {

// What a good `GET /api/v1/env` tells the link (docs/protocol/aclk.md §4.3).
struct CloudEnv {
  Url authEndpoint;           // parsed; only host/port/path are used
  Url mqttEndpoint;           // first MQTTv5 transport; only host/port are used
  BackoffParams backoff;
  std::vector<std::string> capabilities;
};

// An HTTP error body of /env, /challenge or /password (docs/protocol/aclk.md §4.3, second table).
struct CloudErrorBody {
  std::string errorCode;
  std::string errorMsgKey;
  std::string errorMessage;
  bool nonRetryable = false;       // true -> banned for this run
  int64_t retryDelaySeconds = -1;  // > 0 -> block-until now + N; -1 when unset
};

// Why one HTTPS step of the bootstrap (/env, OTP challenge, OTP password) produced no value. The
// error convention's failure struct (docs/conventions.md#errors): the link acts on more than the
// text, it reports `status` (§11.1) and applies the cloud's ban or retry delay from `cloudError`.
struct StepFailure {
  AclkStatus status = AclkStatus::kConnected;
  std::string reason;                        // the log line, naming the exact field that was wrong
  std::optional<CloudErrorBody> cloudError;  // set when a non-success answer had an error body
};

// Fills *failure (when given) and returns nullopt: the failure path of the steps, so that one
// reads `return failStep(failure, AclkStatus::kEnvEmpty, "…");`.
std::nullopt_t failStep(StepFailure* failure, AclkStatus status, std::string reason,
                        std::optional<CloudErrorBody> cloudError = std::nullopt);

// "/api/v1/env?v=<version>&cap=proto,ctx&claim_id=<id>" (version without a leading 'v').
std::string envPath(const std::string& agentVersion, const std::string& claimedId);

// Interprets the answer to /env. Status strings: "/env response code is not 200",
// "/env response is empty", "/env response is not JSON" (also for a JSON object that breaks the
// key rules: missing compulsory key, wrong type, out-of-range backoff, duplicate key), "can't
// connect, old protocol not supported", "can't connect, protocol capability not supported",
// "can't connect, invalid /env auth url", "can't connect, invalid /env transport idx",
// "can't connect, invalid /env transport URL". Unknown keys and unknown transport types are
// ignored. Never throws. nullopt with *failure when the answer is not a usable environment.
std::optional<CloudEnv> interpretEnvResponse(long httpCode, const std::string& body,
                                             StepFailure* failure);

// Parses an error body; nullopt when it is not one (not JSON, or a required key missing).
std::optional<CloudErrorBody> parseCloudErrorBody(const std::string& body);

// `ACLK: Cloud returned EC="…", Msg-Key:"…", Msg:"…", BlockRetry:true|false, Backoff:Ns (-1 unset by cloud)`
std::string describeCloudError(const CloudErrorBody& error);

}  // namespace aclkd::aclk
