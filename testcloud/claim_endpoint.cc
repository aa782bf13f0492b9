#include "testcloud/claim_endpoint.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <spdlog/spdlog.h>
#include <vector>

#include "common/text.h"
#include "common/uuid.h"
#include "testcloud/public_key.h"

namespace aclkd::testcloud {
namespace {

// The PUT body of docs/protocol/aclk.md §3.3.
struct ClaimBody {
  std::string nodeId;
  std::string hostname;
  std::string token;
  std::vector<std::string> rooms;
  std::string publicKey;
  std::string machineGuid;
};

bool stringField(const nlohmann::json& object, const char* name, const char* path,
                 std::string* out, std::string* error) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    *error = std::string("field '") + path + "' is missing or not a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

std::optional<ClaimBody> parseClaimBody(std::string_view text, std::string* error) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) {
    *error = "the request body is not valid JSON";
    return std::nullopt;
  }
  if (!json.is_object()) {
    *error = "the request body is not a JSON object";
    return std::nullopt;
  }
  ClaimBody body;
  const auto node = json.find("node");
  if (node == json.end() || !node->is_object()) {
    *error = "field 'node' is missing or not an object";
    return std::nullopt;
  }
  if (!stringField(*node, "id", "node.id", &body.nodeId, error) ||
      !stringField(*node, "hostname", "node.hostname", &body.hostname, error) ||
      !stringField(json, "token", "token", &body.token, error)) {
    return std::nullopt;
  }
  const auto rooms = json.find("rooms");
  if (rooms == json.end() || !rooms->is_array() ||
      !std::all_of(rooms->begin(), rooms->end(), [](const auto& r) { return r.is_string(); })) {
    *error = "field 'rooms' is missing or not an array of strings";
    return std::nullopt;
  }
  for (const auto& room : *rooms) {
    body.rooms.push_back(room.get<std::string>());
  }
  if (!stringField(json, "publicKey", "publicKey", &body.publicKey, error) ||
      !stringField(json, "mGUID", "mGUID", &body.machineGuid, error)) {
    return std::nullopt;
  }
  return body;
}

// An id from the URL as it may go into a log line: untrusted, so bounded and without control
// characters that could forge log lines.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return text.size() > 64 ? out + "..." : out;
}

// The errorMsgKey the real cloud pairs with a status, so an injected fault looks like a real one.
std::string_view faultKey(int status) {
  switch (status) {
    case 403: return "ErrForbidden";
    case 409: return "ErrAlreadyClaimed";
    case 500: return "ErrInternalServerError";
    case 503: return "ErrServiceUnavailable";
    case 504: return "ErrGatewayTimeout";
    default: return "ErrInjectedFault";
  }
}

}  // namespace

std::string formatUtc(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ClaimEndpoint::ClaimEndpoint(ClaimPolicy policy, CloudState& state, Clock clock)
    : policy_(std::move(policy)), state_(state), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] { return std::chrono::system_clock::now(); };
  }
}

void ClaimEndpoint::addRoutes(ApiRouter& router) {
  router.add("PUT", "/api/v1/spaces/nodes/{claimed_id}", [this](const Request& request) {
    return claim(request.param("claimed_id"), request.body);
  });
}

Reply ClaimEndpoint::injectedFault(int status) const {
  if (status == 204) {
    return noContent();
  }
  return errorReply(status, faultKey(status));
}

Reply ClaimEndpoint::claim(std::string_view claimedId, std::string_view text) {
  // Never log `text` or the token: the body carries a secret.
  const auto reject = [&](int status, std::string_view key, const std::string& message) {
    spdlog::info("claim rejected for {}: {} {} ({})", printable(claimedId), status, key, message);
    return errorReply(status, key, message);
  };

  if (const int status = state_.faults().claimStatus; status != 0) {
    spdlog::info("claim for {} answered with injected status {}", printable(claimedId), status);
    return injectedFault(status);
  }

  std::string error;
  const auto body = parseClaimBody(text, &error);
  if (!body) {
    return reject(422, "ErrInvalidRequest", error);
  }
  if (!isUuid(claimedId)) {
    return reject(422, "ErrInvalidNodeID", "the claimed_id in the URL is not a UUID");
  }
  const std::string id = asciiLower(claimedId);
  if (asciiLower(body->nodeId) != id) {
    return reject(422, "ErrInvalidNodeID", "node.id does not match the claimed_id in the URL");
  }
  if (body->hostname.empty()) {
    return reject(422, "ErrInvalidNodeName", "node.hostname is empty");
  }
  if (policy_.tokens.count(body->token) == 0) {
    return reject(403, "ErrForbidden", "token is expired, not found, or invalid");
  }
  if (!policy_.rooms.empty()) {
    for (const auto& room : body->rooms) {
      if (policy_.rooms.count(room) == 0) {
        return reject(422, "ErrInvalidRoomID",
                      "room '" + printable(room) + "' is not a room of this space");
      }
    }
  }
  const auto key = parseRsaPublicKey(body->publicKey, &error);
  if (!key) {
    return reject(422, "ErrInvalidPublicKey", "publicKey: " + error);
  }
  if (key->bits < policy_.minKeyBits) {
    return reject(422, "ErrInvalidPublicKey",
                  "publicKey has " + std::to_string(key->bits) + " bits, at least " +
                      std::to_string(policy_.minKeyBits) + " are required");
  }

  ClaimRecord record;
  record.claimedId = id;
  record.hostname = body->hostname;
  record.machineGuid = body->machineGuid;
  record.rooms = body->rooms;
  record.publicKey = body->publicKey;
  record.tokenAccepted = true;
  record.time = formatUtc(clock_());
  const auto sameKey = [&](const ClaimRecord& existing) {
    const auto old = parseRsaPublicKey(existing.publicKey, nullptr);
    return old && old->der == key->der;
  };
  switch (state_.registerClaim(std::move(record), sameKey)) {
    case RegisterResult::kConflict:
      return reject(409, "ErrAlreadyClaimed",
                    "claimed_id " + id + " is already registered with another public key");
    case RegisterResult::kRepeated:
      spdlog::info("claim repeated for {} (same public key, nothing changed)", id);
      return noContent();
    case RegisterResult::kRegistered:
      break;
  }
  spdlog::info("claim accepted for {} (hostname {})", id, body->hostname);
  return noContent();
}

}  // namespace aclkd::testcloud
