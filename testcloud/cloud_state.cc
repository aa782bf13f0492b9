#include "testcloud/cloud_state.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/fail_with.h"
#include "common/file_util.h"

namespace aclkd::testcloud {
namespace {

// The state file holds what /testcloud/api/claims shows, wrapped so later issues can add keys.
constexpr const char* kClaimsKey = "claims";

bool readString(const nlohmann::json& json, const char* name, std::string* out,
                std::string* error) {
  const auto it = json.find(name);
  if (it == json.end() || !it->is_string()) {
    *error = std::string("field '") + name + "' is missing or not a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

}  // namespace

nlohmann::ordered_json claimToJson(const ClaimRecord& record) {
  nlohmann::ordered_json out;
  out["claimed_id"] = record.claimedId;
  out["hostname"] = record.hostname;
  out["machine_guid"] = record.machineGuid;
  out["rooms"] = record.rooms;
  out["public_key"] = record.publicKey;
  out["token_accepted"] = record.tokenAccepted;
  out["time"] = record.time;
  return out;
}

std::optional<ClaimRecord> claimFromJson(const nlohmann::json& json, std::string* error) {
  std::string ignored;
  std::string& why = error ? *error : ignored;
  if (!json.is_object()) {
    why = "a claim is not a JSON object";
    return std::nullopt;
  }
  ClaimRecord record;
  if (!readString(json, "claimed_id", &record.claimedId, &why) ||
      !readString(json, "hostname", &record.hostname, &why) ||
      !readString(json, "machine_guid", &record.machineGuid, &why) ||
      !readString(json, "public_key", &record.publicKey, &why) ||
      !readString(json, "time", &record.time, &why)) {
    return std::nullopt;
  }
  const auto rooms = json.find("rooms");
  if (rooms == json.end() || !rooms->is_array()) {
    why = "field 'rooms' is missing or not an array";
    return std::nullopt;
  }
  for (const auto& room : *rooms) {
    if (!room.is_string()) {
      why = "field 'rooms' holds a non-string";
      return std::nullopt;
    }
    record.rooms.push_back(room.get<std::string>());
  }
  record.tokenAccepted = json.value("token_accepted", true);
  return record;
}

CloudState::CloudState(std::string stateFile) : stateFile_(std::move(stateFile)) {}

bool CloudState::load(std::string* error) {
  if (stateFile_.empty()) {
    return true;
  }
  std::string readError;
  const auto text = readFile(stateFile_, &readError);
  if (!text) {
    return readError.empty() || failWith(error, "cannot read " + stateFile_ + ": " + readError);
  }
  const auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json.contains(kClaimsKey) || !json[kClaimsKey].is_array()) {
    return failWith(error,
                    stateFile_ + ": not a test cloud state file (expected {\"claims\": [...]})");
  }
  std::map<std::string, ClaimRecord> loaded;
  for (const auto& item : json[kClaimsKey]) {
    std::string why;
    auto record = claimFromJson(item, &why);
    if (!record) {
      return failWith(error, stateFile_ + ": " + why);
    }
    std::string id = record->claimedId;
    loaded[std::move(id)] = std::move(*record);
  }
  std::lock_guard lock(mutex_);
  claims_ = std::move(loaded);
  spdlog::info("loaded {} claim(s) from {}", claims_.size(), stateFile_);
  return true;
}

RegisterResult CloudState::registerClaim(ClaimRecord record,
                                         const std::function<bool(const ClaimRecord&)>& sameKey) {
  std::lock_guard lock(mutex_);
  const auto it = claims_.find(record.claimedId);
  if (it != claims_.end()) {
    return sameKey(it->second) ? RegisterResult::kRepeated : RegisterResult::kConflict;
  }
  std::string id = record.claimedId;
  claims_.emplace(std::move(id), std::move(record));
  // A failed write leaves the claim recorded in memory: the agent did claim, and the test that
  // depends on persistence will see the logged error.
  if (std::string error; !persistLocked(&error)) {
    spdlog::error("cannot persist claims: {}", error);
  }
  return RegisterResult::kRegistered;
}

std::optional<ClaimRecord> CloudState::findClaim(const std::string& claimedId) const {
  std::lock_guard lock(mutex_);
  const auto it = claims_.find(claimedId);
  if (it == claims_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::vector<ClaimRecord> CloudState::claims() const {
  std::lock_guard lock(mutex_);
  std::vector<ClaimRecord> out;
  out.reserve(claims_.size());
  for (const auto& [id, record] : claims_) {
    out.push_back(record);
  }
  return out;
}

nlohmann::ordered_json CloudState::claimsJson() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& record : claims()) {
    out.push_back(claimToJson(record));
  }
  return out;
}

Faults CloudState::faults() const {
  std::lock_guard lock(mutex_);
  return faults_;
}

void CloudState::setFaults(const Faults& faults) {
  std::lock_guard lock(mutex_);
  faults_ = faults;
}

bool CloudState::persistLocked(std::string* error) const {
  if (stateFile_.empty()) {
    return true;
  }
  nlohmann::ordered_json claims = nlohmann::ordered_json::array();
  for (const auto& [id, record] : claims_) {
    claims.push_back(claimToJson(record));
  }
  nlohmann::ordered_json doc;
  doc[kClaimsKey] = std::move(claims);
  return writeFileAtomic(stateFile_, doc.dump(2) + "\n", 0600, error);
}

}  // namespace aclkd::testcloud
