#include "aclk/otp.h"

#include <nlohmann/json.hpp>

namespace aclkd::aclk {
namespace {

using nlohmann::json;

constexpr size_t kChallengeBase64Chars = 344;
constexpr size_t kChallengeBytes = 256;
constexpr std::string_view kPlaceholder = "#{claim_id}";

}  // namespace

std::string challengePath(const std::string& authPath, const std::string& claimedId) {
  return authPath + "/node/" + claimedId + "/challenge";
}

std::string passwordPath(const std::string& authPath, const std::string& claimedId) {
  return authPath + "/node/" + claimedId + "/password";
}

std::optional<std::string> interpretChallengeResponse(long httpCode, const std::string& body,
                                                      StepFailure* failure) {
  if (httpCode != 200) {
    return failStep(failure, AclkStatus::kOtpChallengeNot200,
                    "OTP Challenge HTTP code not 200 OK (got " + std::to_string(httpCode) + ")",
                    parseCloudErrorBody(body));
  }
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) {
    return failStep(failure, AclkStatus::kOtpChallengeInvalid,
                    "OTP challenge: the response is not a JSON object");
  }
  if (!j.contains("challenge") || !j["challenge"].is_string()) {
    return failStep(failure, AclkStatus::kOtpChallengeInvalid,
                    "OTP challenge: \"challenge\" is missing or not a string");
  }
  const std::string text = j["challenge"].get<std::string>();
  if (text.size() != kChallengeBase64Chars) {
    return failStep(failure, AclkStatus::kOtpChallengeInvalid,
                    "Received Challenge has unexpected length of " + std::to_string(text.size()) +
                        " (expected 344)");
  }
  auto bytes = base64Decode(text);
  if (!bytes) {
    return failStep(failure, AclkStatus::kOtpChallengeInvalid,
                    "OTP challenge: \"challenge\" is not valid base64");
  }
  if (bytes->size() != kChallengeBytes) {
    return failStep(failure, AclkStatus::kOtpChallengeInvalid,
                    "OTP challenge: \"challenge\" decodes to " + std::to_string(bytes->size()) +
                        " bytes (expected 256)");
  }
  return bytes;
}

std::string buildPasswordBody(const std::string& agentVersion, const std::string& decrypted) {
  return "{\"agent_version\":" + json(agentVersion).dump() + ", \"response\":\"" +
         base64Encode(decrypted) + "\"}";
}

std::optional<MqttCredentials> interpretPasswordResponse(long httpCode, const std::string& body,
                                                         const std::string& claimedId,
                                                         StepFailure* failure) {
  if (httpCode != 201) {
    return failStep(failure, AclkStatus::kOtpPasswordNot201,
                    "OTP Password HTTP code not 201 Created (got " + std::to_string(httpCode) + ")",
                    parseCloudErrorBody(body));
  }
  if (body.empty()) {
    return failStep(failure, AclkStatus::kOtpPasswordEmpty, "OTP password response is empty");
  }
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) {
    return failStep(failure, AclkStatus::kOtpPasswordNotJson, "OTP password response is not JSON");
  }
  MqttCredentials creds;
  for (auto [key, out] : {std::pair{"clientID", &creds.clientId},
                          std::pair{"username", &creds.username},
                          std::pair{"password", &creds.password}}) {
    if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
      return failStep(failure, AclkStatus::kOtpPasswordNotJson,
                      std::string(key) + " is compulsory key in /password response");
    }
    *out = j[key].get<std::string>();
  }
  if (!j.contains("topics") || !j["topics"].is_array()) {
    return failStep(failure, AclkStatus::kOtpPasswordNotJson,
                    "topics is compulsory key in /password response (an array)");
  }
  const auto& list = j["topics"];
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& t = list[i];
    const std::string where = "/password: \"topics[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("topic") || !t["topic"].is_string()) {
      return failStep(failure, AclkStatus::kOtpPasswordNotJson,
                      where + ".topic\" is missing or not a string");
    }
    if (t.contains("name") && !t["name"].is_string()) {
      return failStep(failure, AclkStatus::kOtpPasswordNotJson, where + ".name\" is not a string");
    }
    std::string topic = t["topic"].get<std::string>();
    const auto at = topic.find(kPlaceholder);
    if (at == std::string::npos) {
      continue;  // unusable: yields no final topic (a compulsory one is reported below)
    }
    topic.replace(at, kPlaceholder.size(), claimedId);
    creds.topics.ordered.push_back(topic);
    if (t.contains("name")) {
      if (auto id = topicIdByName(t["name"].get<std::string>())) {
        creds.topics.byId[static_cast<size_t>(*id)] = topic;
      }
    }
  }
  std::vector<TopicId> missing;
  for (size_t i = 0; i < static_cast<size_t>(TopicId::kCount); ++i) {
    const auto id = static_cast<TopicId>(i);
    if (topicIsCompulsory(id) && !creds.topics.byId[i]) missing.push_back(id);
  }
  if (!missing.empty()) {
    const bool onlyLwt = missing.size() == 1 && missing[0] == TopicId::kAgentConnection;
    return failStep(failure, onlyLwt ? AclkStatus::kNoLwtTopic : AclkStatus::kOtpPasswordNotJson,
                    "missing compulsory topic \"" + std::string(topicName(missing[0])) +
                        "\" in password response from cloud");
  }
  return creds;
}

}  // namespace aclkd::aclk
