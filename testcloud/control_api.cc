#include "testcloud/control_api.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/fail_with.h"
#include "common/text.h"

namespace aclkd::testcloud {
namespace {

// One row per integer fault: its JSON name, where it lives, and the accepted values besides 0
// (which always means "off"). A new fault is a new row; parsing and rendering follow from it.
struct IntFault {
  const char* name;
  int Faults::*member;
  int min;
  int max;
};

constexpr IntFault kIntFaults[] = {
    // 1xx is left out: an informational status cannot end an HTTP exchange.
    {"claim_status", &Faults::claimStatus, 200, 599},
    {"env_status", &Faults::envStatus, 201, 599},
    {"env_retry_delay", &Faults::envRetryDelay, 1, 86400},
    {"env_non_retryable", &Faults::envNonRetryable, 1, 1},
};

// Text faults: a name, where it lives and the values it accepts besides "" (off).
struct TextFault {
  const char* name;
  std::string Faults::*member;
  std::vector<std::string_view> values;
};

const std::vector<TextFault>& textFaults() {
  static const std::vector<TextFault> kTextFaults = {
      {"env_body", &Faults::envBody,
       {"nonjson", "empty", "noproto", "json_encoding", "nomqttv5", "badauthurl",
        "badtransporturl"}},
      {"challenge", &Faults::challenge, {"status500", "garbage", "shortb64", "undecryptable"}},
      {"password", &Faults::password,
       {"status401", "garbage", "empty", "nolwt", "missingtopic"}},
  };
  return kTextFaults;
}

bool applyTextFault(const TextFault& row, const nlohmann::json& value, Faults& faults,
                    std::string* error) {
  const std::string name = row.name;
  if (!value.is_string()) {
    return failWith(error, "field '" + name + "' is not a string");
  }
  const auto text = value.get<std::string>();
  if (!text.empty() &&
      std::find(row.values.begin(), row.values.end(), text) == row.values.end()) {
    std::string accepted;
    for (const auto v : row.values) accepted += (accepted.empty() ? "" : ", ") + std::string(v);
    return failWith(error, "field '" + name + "' must be \"\" or one of " + accepted);
  }
  faults.*(row.member) = text;
  return true;
}

}  // namespace

bool applyFaultsPatch(const nlohmann::json& patch, Faults& faults, std::string* error) {
  if (!patch.is_object()) {
    return failWith(error, "the request body is not a JSON object");
  }
  Faults updated = faults;
  for (const auto& item : patch.items()) {
    // Named rather than a structured binding: clang 14 cannot capture a binding in a lambda.
    const std::string& name = item.key();
    const auto& value = item.value();
    const auto& texts = textFaults();
    const auto textRow = std::find_if(texts.begin(), texts.end(),
                                      [&](const TextFault& f) { return name == f.name; });
    if (textRow != texts.end()) {
      if (!applyTextFault(*textRow, value, updated, error)) return false;
      continue;
    }
    const auto row = std::find_if(std::begin(kIntFaults), std::end(kIntFaults),
                                  [&](const IntFault& f) { return name == f.name; });
    if (row == std::end(kIntFaults)) {
      return failWith(error, "unknown fault '" + name + "'");
    }
    if (!value.is_number_integer()) {
      return failWith(error, "field '" + name + "' is not an integer");
    }
    const auto number = value.get<long long>();
    if (number != 0 && (number < row->min || number > row->max)) {
      return failWith(error, "field '" + name + "' must be 0 or " + std::to_string(row->min) +
                                 ".." + std::to_string(row->max));
    }
    updated.*(row->member) = static_cast<int>(number);
  }
  faults = updated;
  return true;
}

nlohmann::ordered_json faultsToJson(const Faults& faults) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& row : kIntFaults) {
    out[row.name] = faults.*(row.member);
  }
  for (const auto& row : textFaults()) {
    out[row.name] = faults.*(row.member);
  }
  return out;
}

void ControlApi::addRoutes(ApiRouter& router) {
  router.add("GET", "/healthz", [](const Request&) { return textReply(200, "ok"); });

  router.add("GET", "/testcloud/api/claims",
             [this](const Request&) { return jsonReply(200, state_.claimsJson()); });

  router.add("GET", "/testcloud/api/claims/{claimed_id}", [this](const Request& request) {
    const auto record = state_.findClaim(asciiLower(request.param("claimed_id")));
    if (!record) {
      return errorReply(404, "ErrNotFound", "no claim recorded for this claimed_id");
    }
    return jsonReply(200, claimToJson(*record));
  });

  router.add("GET", "/testcloud/api/faults",
             [this](const Request&) { return jsonReply(200, faultsToJson(state_.faults())); });

  // POST patches the faults in force; PUT replaces them (absent fields are off).
  const auto setFaults = [this](const Request& request, bool replace) {
    const auto patch = nlohmann::json::parse(request.body, nullptr, false);
    if (patch.is_discarded()) {
      return errorReply(422, "ErrInvalidRequest", "the request body is not valid JSON");
    }
    // Read-modify-write of the faults: the control API is only served by the one lws thread.
    Faults faults = replace ? Faults{} : state_.faults();
    if (std::string error; !applyFaultsPatch(patch, faults, &error)) {
      return errorReply(422, "ErrInvalidRequest", error);
    }
    state_.setFaults(faults);
    const auto rendered = faultsToJson(faults);
    spdlog::info("faults now {}", rendered.dump());
    return jsonReply(200, rendered);
  };
  router.add("POST", "/testcloud/api/faults",
             [setFaults](const Request& request) { return setFaults(request, false); });
  router.add("PUT", "/testcloud/api/faults",
             [setFaults](const Request& request) { return setFaults(request, true); });
}

}  // namespace aclkd::testcloud
