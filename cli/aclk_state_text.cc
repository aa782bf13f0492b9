#include "cli/aclk_state_text.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace aclkd::cli {
namespace {

using Json = nlohmann::json;

const char* yesNo(bool b) { return b ? "Yes" : "No"; }

// The JSON carries UTC; the text form shows the agent's local time, as Netdata's does.
std::string localTime(const Json& v) {
  if (!v.is_string()) {
    return "";
  }
  std::tm tm{};
  const std::string s = v.get<std::string>();
  if (strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm) == nullptr) {
    return s;
  }
  const std::time_t t = timegm(&tm);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
  return buf;
}

std::string latency(long long us) {
  if (us >= 1000) {
    return std::to_string(us / 1000) + "ms " + std::to_string(us % 1000) + "us";
  }
  return std::to_string(us) + "us";
}

std::string textOr(const Json& v, const char* fallback) {
  return v.is_string() ? v.get<std::string>() : fallback;
}

// The const operator[] of nlohmann::json is undefined behaviour for a missing key, and a daemon of
// another version may lack one: absent keys read as null instead.
const Json& field(const Json& object, const char* key) {
  static const Json null;
  const auto it = object.find(key);
  return it == object.end() ? null : *it;
}

// An integer field, 0 when absent. value(key, 0LL) would convert a float too, and one outside
// long long's range makes that conversion undefined behaviour (UBSan, found by
// tests/fuzz/control_request_fuzz.cc): anything but an integer is a wrong type, as a string is.
long long integerOr0(const Json& object, const char* key) {
  if (!object.contains(key)) return 0;
  const Json& v = field(object, key);
  if (!v.is_number_integer()) throw Json::type_error::create(302, "not an integer", &v);
  return v.get<long long>();
}

std::string renderText(const Json& j) {
  std::string out;
  out += "ACLK Available: Yes\nACLK Version: 2\nProtocols Supported: Protobuf\n";
  out += "Protocol Used: Protobuf\nMQTT Version: 5\n";
  const bool claimed = j.value("agent-claimed", false);
  const bool online = j.value("online", false);
  out += std::string("Claimed: ") + yesNo(claimed) + "\n";
  if (claimed) {
    out += "Claimed Id: " + textOr(field(j, "claimed-id"), "null") + "\n";
    out += "Cloud URL: " + textOr(field(j, "cloud-url"), "null") + "\n";
    out += "ACLK Proxy: " + textOr(field(j, "aclk_proxy"), "none") + "\n";
    out += "Publish Latency: " + latency(integerOr0(j, "publish_latency_us")) + "\n";
  }
  out += std::string("Online: ") + yesNo(online) + "\n";
  out += "Reconnect count: " + std::to_string(integerOr0(j, "reconnect-count")) + "\n";
  out += std::string("Banned By Cloud: ") + yesNo(j.value("banned-by-cloud", false)) + "\n";
  if (field(j, "last-connect-time-utc").is_string()) {
    out += "Last Connection Time: " + localTime(field(j, "last-connect-time-utc")) + "\n";
  }
  if (field(j, "last-connect-time-puback-utc").is_string()) {
    out += "Last Connection Time + 3 PUBACKs received: " +
           localTime(field(j, "last-connect-time-puback-utc")) + "\n";
  }
  if (field(j, "last-disconnect-time-utc").is_string()) {
    out += "Last Disconnect Time: " + localTime(field(j, "last-disconnect-time-utc")) + "\n";
  }
  if (!online && field(j, "next-connection-attempt-utc").is_string()) {
    out += "Next Connection Attempt At: " + localTime(field(j, "next-connection-attempt-utc")) +
           "\n";
  }
  if (!online && field(j, "last-backoff-value").is_number()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", field(j, "last-backoff-value").get<double>());
    out += std::string("Last Backoff: ") + buf + "\n";
  }
  if (online) {
    out += "Received Cloud MQTT Messages: " +
           std::to_string(integerOr0(j, "received-app-layer-msgs")) + "\n";
    out += "MQTT Messages Confirmed by Remote Broker (PUBACKs): " +
           std::to_string(integerOr0(j, "received-mqtt-pubacks")) + "\n";
    out += "Pending PUBACKS: " + std::to_string(integerOr0(j, "pending-mqtt-pubacks")) + "\n";
    out += "MQTT Messages Dropped Without a PUBACK (since start): " +
           std::to_string(integerOr0(j, "timed-out-mqtt-pubacks-since-start")) + "\n";
    out += "Server Receive Maximum: " + std::to_string(integerOr0(j, "server-receive-maximum")) +
           "\n";
  }
  if (field(j, "node-instances").is_array()) {
    for (const auto& n : field(j, "node-instances")) {
      const bool self = n.value("relationship", "self") == "self";
      out += "\n> Node Instance for mGUID: \"" + n.value("mguid", "") + "\" hostname \"" +
             n.value("hostname", "") + "\"\n";
      out += "\tClaimed ID: " + textOr(field(n, "claimed_id"), "null") + "\n";
      out += "\tNode ID: " + textOr(field(n, "node-id"), "null") + "\n";
      out += "\tStreaming Hops: " + std::to_string(integerOr0(n, "streaming-hops")) + "\n";
      out += std::string("\tRelationship: ") + (self ? "self" : "child") + "\n";
      if (!self) {
        out += std::string("\tStreaming Connection Live: ") +
               (n.value("streaming-online", false) ? "true" : "false") + "\n";
      }
      out += "\tAlert Streaming Status:\n";
    }
  }
  // Beyond Netdata's lines, last so that parsers of the standard lines are not disturbed.
  if (j.contains("cloud-status")) {
    out += "\nCloud Status: " + j.value("cloud-status", "") + "\n";
    const std::string reason = j.value("cloud-reason", "");
    if (!reason.empty()) {
      out += "Cloud Status Reason: " + reason + "\n";
    }
  }
  return out;
}

}  // namespace

std::string renderAclkStateText(const std::string& stateJson) {
  const Json j = Json::parse(stateJson, nullptr, false);
  if (!j.is_object() || !j.contains("agent-claimed")) {
    return "error: aclkd answered with an unexpected state object\n";
  }
  // value() throws when a key holds another type than expected: that is an unexpected object too.
  try {
    return renderText(j);
  } catch (const Json::exception&) {
    return "error: aclkd answered with an unexpected state object\n";
  }
}

}  // namespace aclkd::cli
