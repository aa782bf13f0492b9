#pragma once

#include <string>

#include "aclk/env.h"
#include "aclk/topics.h"
#include "common/base64.h"

namespace aclkd::aclk {

// What `/password` grants for one MQTT session (docs/protocol/aclk.md §4.4).
struct MqttCredentials {
  std::string clientId;
  std::string username;
  std::string password;  // secret: never logged
  TopicMap topics;
};

// "<authPath>/node/<claimed_id>/challenge" and ".../password"; authPath without a trailing '/'.
std::string challengePath(const std::string& authPath, const std::string& claimedId);
std::string passwordPath(const std::string& authPath, const std::string& claimedId);

// The 256 encrypted bytes of a challenge answer. Statuses: "otp challenge response is not
// http/200", "otp challenge response is invalid" (not JSON, no "challenge" string, not 344
// base64 characters, not 256 bytes once decoded); nullopt with *failure then.
std::optional<std::string> interpretChallengeResponse(long httpCode, const std::string& body,
                                                      StepFailure* failure);

// `{"agent_version":"<v>", "response":"<base64>"}` exactly as the agent writes it.
std::string buildPasswordBody(const std::string& agentVersion, const std::string& decrypted);

// Statuses: "otp password response is not http/201", "otp password response is empty",
// "otp password response is not JSON" (also: clientID/username/password missing or not strings,
// topics missing or malformed, a compulsory topic missing or without `#{claim_id}`; the error
// then says `missing compulsory topic "<name>" in password response from cloud`),
// "can't connect, no LWT topic" when only `agent-connection` is unusable; nullopt with *failure
// then.
std::optional<MqttCredentials> interpretPasswordResponse(long httpCode, const std::string& body,
                                                         const std::string& claimedId,
                                                         StepFailure* failure);

}  // namespace aclkd::aclk
