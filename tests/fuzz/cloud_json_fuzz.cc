// libFuzzer target: the JSON of the link's HTTPS bootstrap (aclk/env.h, aclk/otp.h): the answers
// to /env, /challenge and /password and the cloud's error bodies. The cloud's bytes decide where
// the link connects, with which credentials and how long it waits.
// Besides "never crash" (these readers promise never to throw): an answer is a value or a status
// with a log line, and a value holds what the link relies on (an MQTT endpoint with a host, a
// challenge of 256 bytes, credentials with every compulsory topic).

#include <cstddef>
#include <cstdint>
#include <string>

#include "aclk/env.h"
#include "aclk/otp.h"

using namespace aclkd::aclk;

namespace {

// A step gives a value, or a failure with a reason: never both, never neither.
template <typename T>
void checkStep(const std::optional<T>& value, const StepFailure& failure) {
  if (value.has_value() == !failure.reason.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  const std::string claimId = "6f2b3c1e-8a4d-4e5f-9b0a-1c2d3e4f5a6b";
  // Each answer as a success and as an error (whose body is the cloud's error JSON).
  for (const long code : {200L, 503L}) {
    StepFailure envFailure, challengeFailure, passwordFailure;
    const auto env = interpretEnvResponse(code, body, &envFailure);
    checkStep(env, envFailure);
    if (env && env->mqttEndpoint.host.empty()) __builtin_trap();

    const auto challenge = interpretChallengeResponse(code, body, &challengeFailure);
    checkStep(challenge, challengeFailure);
    if (challenge && challenge->size() != 256) __builtin_trap();

    checkStep(interpretPasswordResponse(code == 200 ? 201 : code, body, claimId, &passwordFailure),
              passwordFailure);
  }
  if (const auto error = parseCloudErrorBody(body)) (void)describeCloudError(*error);
  return 0;
}
