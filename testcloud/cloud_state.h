#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace aclkd::testcloud {

// What the cloud keeps of one accepted claim. The token is deliberately absent: the cloud only
// records that it was accepted, so it can never reach the state file, the API or a log.
struct ClaimRecord {
  std::string claimedId;  // lower case
  std::string hostname;
  std::string machineGuid;
  std::vector<std::string> rooms;
  std::string publicKey;  // the PEM as the agent sent it
  bool tokenAccepted = true;
  std::string time;  // UTC, ISO 8601
};

// Fields in the documented order (ordered_json), so the state file and the API read the same.
nlohmann::ordered_json claimToJson(const ClaimRecord& record);
// nullopt with `error` naming the field when `json` is not a claim object.
std::optional<ClaimRecord> claimFromJson(const nlohmann::json& json, std::string* error);

// Misbehaviour that tests switch on through POST /testcloud/api/faults. Zero means "behave".
// Adding a fault is one member here plus one row in control_api.cc's fault table.
struct Faults {
  int claimStatus = 0;      // answer every claim with this HTTP status
  int envStatus = 0;        // answer /env with this status and an error body
  int envRetryDelay = 0;    // errorRetryDelaySeconds in that error body
  int envNonRetryable = 0;  // 1: errorNonRetryable=true in that error body
  // Text faults, "" = behave. The accepted values are listed in control_api.cc.
  std::string envBody;      // a broken but 200 /env body
  std::string challenge;    // a broken challenge answer
  std::string password;     // a broken password answer
};

enum class RegisterResult {
  kRegistered,  // new claimed_id, recorded
  kRepeated,    // claimed_id known with the same key: nothing changes
  kConflict,    // claimed_id known with another key
};

// Everything the test cloud has recorded. Shared by the HTTP endpoints and, later, the MQTT side,
// which run on different threads, hence the mutex. With a state file, claims survive restarts.
class CloudState {
 public:
  explicit CloudState(std::string stateFile = "");

  // Reads the state file, if one is configured and exists; false with *error when a file exists
  // but cannot be read or parsed (claims would be lost).
  bool load(std::string* error);

  // Records `record` unless its claimed_id is taken. `sameKey` tells whether an existing record
  // holds the same public key; check and insert are one critical section, so two concurrent
  // claims of one id cannot both register.
  RegisterResult registerClaim(ClaimRecord record,
                               const std::function<bool(const ClaimRecord&)>& sameKey);

  std::optional<ClaimRecord> findClaim(const std::string& claimedId) const;
  std::vector<ClaimRecord> claims() const;  // in claimed_id order
  nlohmann::ordered_json claimsJson() const;

  Faults faults() const;
  void setFaults(const Faults& faults);

 private:
  bool persistLocked(std::string* error) const;

  const std::string stateFile_;
  mutable std::mutex mutex_;
  std::map<std::string, ClaimRecord> claims_;  // guarded by mutex_
  Faults faults_;                              // guarded by mutex_
};

}  // namespace aclkd::testcloud
