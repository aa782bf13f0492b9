#include "aclk/env.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "common/text.h"

namespace aclkd::aclk {
namespace {

using nlohmann::json;

// Parses `body` as JSON, rejecting a key repeated within one object (the agent's parser allows
// each key once; a repeated key would silently pick one of two values here).
std::optional<json> parseStrict(const std::string& body, std::string* duplicate) {
  std::vector<std::set<std::string>> keys;
  auto cb = [&](int, json::parse_event_t ev, json& parsed) {
    switch (ev) {
      case json::parse_event_t::object_start: keys.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
            duplicate->empty()) {
          *duplicate = parsed.get<std::string>();
        }
        break;
      default: break;
    }
    return true;
  };
  json j = json::parse(body, cb, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

bool readBackoffInt(const json& backoff, const char* key, int64_t lo, int64_t hi, int64_t* out,
                    std::string* error) {
  if (!backoff.contains(key)) {
    *error = std::string("/env: \"backoff.") + key + "\" is missing";
    return false;
  }
  const auto& v = backoff[key];
  if (!v.is_number_integer()) {
    *error = std::string("/env: \"backoff.") + key + "\" is not an integer";
    return false;
  }
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi) {
    *error = std::string("/env: \"backoff.") + key + "\" is " + std::to_string(n) + ", expected " +
             std::to_string(lo) + ".." + std::to_string(hi);
    return false;
  }
  *out = n;
  return true;
}

}  // namespace

std::nullopt_t failStep(StepFailure* failure, AclkStatus status, std::string reason,
                        std::optional<CloudErrorBody> cloudError) {
  if (failure != nullptr) {
    *failure = StepFailure{status, std::move(reason), std::move(cloudError)};
  }
  return std::nullopt;
}

std::string envPath(const std::string& agentVersion, const std::string& claimedId) {
  return "/api/v1/env?v=" + agentVersion + "&cap=proto,ctx&claim_id=" + claimedId;
}

std::optional<CloudEnv> interpretEnvResponse(long httpCode, const std::string& body,
                                             StepFailure* failure) {
  if (httpCode != 200) {
    return failStep(failure, AclkStatus::kEnvNot200,
                    "failed to get ACLK environment (ENV response code is not 200) (got " +
                        std::to_string(httpCode) + ")",
                    parseCloudErrorBody(body));
  }
  if (body.empty()) {
    return failStep(failure, AclkStatus::kEnvEmpty,
                    "failed to get ACLK environment (ENV response is empty)");
  }
  std::string duplicate;
  const auto parsed = parseStrict(body, &duplicate);
  if (!parsed || !parsed->is_object()) {
    return failStep(failure, AclkStatus::kEnvNotJson,
                    "failed to get ACLK environment (ENV response is not JSON)");
  }
  if (!duplicate.empty()) {
    return failStep(failure, AclkStatus::kEnvNotJson,
                    "/env: key \"" + duplicate + "\" appears twice");
  }
  const json& j = *parsed;
  auto notJson = [failure](std::string e) {
    return failStep(failure, AclkStatus::kEnvNotJson, std::move(e));
  };

  if (!j.contains("authEndpoint")) return notJson("authEndpoint is compulsory");
  if (!j["authEndpoint"].is_string()) return notJson("/env: \"authEndpoint\" is not a string");
  if (!j.contains("encoding")) return notJson("encoding is compulsory");
  if (!j["encoding"].is_string()) return notJson("/env: \"encoding\" is not a string");
  if (!j.contains("transports")) return notJson("env has to return at least one transport");
  if (!j["transports"].is_array()) return notJson("/env: \"transports\" is not an array");
  if (j["transports"].empty()) return notJson("env has to return at least one transport");
  if (!j.contains("backoff")) return notJson("backoff is compulsory");
  if (!j["backoff"].is_object()) return notJson("/env: \"backoff\" is not an object");
  if (j.contains("capabilities") && !j["capabilities"].is_array()) {
    return notJson("/env: \"capabilities\" is not an array");
  }

  CloudEnv env;
  std::string error;
  int64_t base = 0;
  if (!readBackoffInt(j["backoff"], "base", 1, 10, &base, &error) ||
      !readBackoffInt(j["backoff"], "maxSeconds", 500, 2147483647, &env.backoff.maxSeconds,
                      &error) ||
      !readBackoffInt(j["backoff"], "minSeconds", 0, 2147483647, &env.backoff.minSeconds,
                      &error)) {
    return notJson(error);
  }
  env.backoff.base = static_cast<int>(base);

  std::optional<std::string> endpoint;
  for (size_t i = 0; i < j["transports"].size(); ++i) {
    const auto& t = j["transports"][i];
    const std::string where = "/env: \"transports[" + std::to_string(i) + "]";
    if (!t.is_object()) return notJson(where + "\" is not an object");
    if (!t.contains("type") || !t["type"].is_string()) {
      return notJson(where + ".type\" is missing or not a string");
    }
    if (!t.contains("endpoint") || !t["endpoint"].is_string()) {
      return notJson(where + ".endpoint\" is missing or not a string");
    }
    if (!endpoint && t["type"].get<std::string>() == "MQTTv5") {
      endpoint = t["endpoint"].get<std::string>();
    }
  }
  if (j.contains("capabilities")) {
    for (const auto& c : j["capabilities"]) {
      if (!c.is_string()) return notJson("/env: \"capabilities\" holds a non-string");
      env.capabilities.push_back(c.get<std::string>());
    }
  }

  if (j["encoding"].get<std::string>() != "proto") {
    return failStep(failure, AclkStatus::kNoOldProtocol,
                    "this agent can only use the new cloud protocol but cloud requested old one.");
  }
  if (std::none_of(env.capabilities.begin(), env.capabilities.end(),
                   [](const std::string& c) { return asciiLower(c) == "proto"; })) {
    return failStep(failure, AclkStatus::kNoProtocolCapability,
                    "can't use encoding=proto without at least \"proto\" capability.");
  }
  const auto auth = parseUrl(j["authEndpoint"].get<std::string>(), &error);
  if (!auth) {
    return failStep(failure, AclkStatus::kInvalidEnvAuthUrl,
                    "/env: \"authEndpoint\" is not a valid URL: " + error);
  }
  env.authEndpoint = *auth;
  if (!endpoint) {
    return failStep(failure, AclkStatus::kInvalidEnvTransportIdx,
                    "cloud /env endpoint didn't return any transport usable by this agent.");
  }
  const auto mqtt = parseUrl(*endpoint, &error);
  if (!mqtt) {
    return failStep(failure, AclkStatus::kInvalidEnvTransportUrl,
                    "/env: MQTTv5 transport \"endpoint\" is not a valid URL: " + error);
  }
  env.mqttEndpoint = *mqtt;
  return env;
}

std::optional<CloudErrorBody> parseCloudErrorBody(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  CloudErrorBody e;
  for (auto [key, out] : {std::pair{"errorCode", &e.errorCode},
                          std::pair{"errorMsgKey", &e.errorMsgKey},
                          std::pair{"errorMessage", &e.errorMessage}}) {
    if (!j.contains(key) || !j[key].is_string()) return std::nullopt;
    *out = j[key].get<std::string>();
  }
  if (j.contains("errorNonRetryable") && j["errorNonRetryable"].is_boolean()) {
    e.nonRetryable = j["errorNonRetryable"].get<bool>();
  }
  if (j.contains("errorRetryDelaySeconds") && j["errorRetryDelaySeconds"].is_number_integer()) {
    const int64_t n = j["errorRetryDelaySeconds"].get<int64_t>();
    if (n > 0) e.retryDelaySeconds = n;
  }
  return e;
}

std::string describeCloudError(const CloudErrorBody& e) {
  return "ACLK: Cloud returned EC=\"" + e.errorCode + "\", Msg-Key:\"" + e.errorMsgKey +
         "\", Msg:\"" + e.errorMessage + "\", BlockRetry:" + (e.nonRetryable ? "true" : "false") +
         ", Backoff:" + std::to_string(e.retryDelaySeconds) + "s (-1 unset by cloud)";
}

}  // namespace aclkd::aclk
