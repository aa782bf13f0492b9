#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aclk/aclk_status.h"
#include "aclk/backoff.h"
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

// The outcome of one HTTPS step of the bootstrap: a value, or the §11.1 status that the link
// reports and a log line naming the exact field that was wrong.
template <typename T>
struct StepResult {
  std::optional<T> value;
  AclkStatus status = AclkStatus::kConnected;
  std::string error;                     // for the log; empty on success
  std::optional<CloudErrorBody> cloudError;  // set when a non-success answer had an error body
};

// "/api/v1/env?v=<version>&cap=proto,ctx&claim_id=<id>" (version without a leading 'v').
std::string envPath(const std::string& agentVersion, const std::string& claimedId);

// Interprets the answer to /env. Status strings: "/env response code is not 200",
// "/env response is empty", "/env response is not JSON" (also for a JSON object that breaks the
// key rules: missing compulsory key, wrong type, out-of-range backoff, duplicate key), "can't
// connect, old protocol not supported", "can't connect, protocol capability not supported",
// "can't connect, invalid /env auth url", "can't connect, invalid /env transport idx",
// "can't connect, invalid /env transport URL". Unknown keys and unknown transport types are
// ignored. Never throws.
StepResult<CloudEnv> interpretEnvResponse(long httpCode, const std::string& body);

// Parses an error body; nullopt when it is not one (not JSON, or a required key missing).
std::optional<CloudErrorBody> parseCloudErrorBody(const std::string& body);

// `ACLK: Cloud returned EC="…", Msg-Key:"…", Msg:"…", BlockRetry:true|false, Backoff:Ns (-1 unset by cloud)`
std::string describeCloudError(const CloudErrorBody& error);

}  // namespace aclkd::aclk
