#include "alerts/entry_json.h"

#include <nlohmann/json.hpp>

namespace aclkd::alerts {

// One table of (name, member) pairs serves both directions, so a field cannot be written and
// forgotten on reading.
#define ACLKD_ENTRY_FIELDS(F)                                                                     \
  F(key) F(chart) F(chartName) F(chartContext) F(name) F(family) F(when) F(configHash)         \
  F(utcOffset) F(timezone) F(execPath) F(confSource) F(command) F(duration) F(nonClearDuration) \
  F(delay) F(delayUpToTimestamp) F(lastRepeat) F(silenced) F(valueString) F(oldValueString)     \
  F(value) F(oldValue) F(updated) F(renderedInfo) F(eventId) F(transitionId) F(summary)         \
  F(units) F(cursor)

std::string entryToJson(const aclk::AlarmEntry& e) {
  nlohmann::json j;
#define ACLKD_PUT(field) j[#field] = e.field;
  ACLKD_ENTRY_FIELDS(ACLKD_PUT)
#undef ACLKD_PUT
  j["status"] = static_cast<int>(e.status);
  j["oldStatus"] = static_cast<int>(e.oldStatus);
  return j.dump();
}

std::optional<aclk::AlarmEntry> entryFromJson(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  aclk::AlarmEntry e;
  try {
#define ACLKD_GET(field) \
  if (j.contains(#field)) j.at(#field).get_to(e.field);
    ACLKD_ENTRY_FIELDS(ACLKD_GET)
#undef ACLKD_GET
    const int status = j.value("status", 0);
    const int oldStatus = j.value("oldStatus", 0);
    if (status < 0 || status > 6 || oldStatus < 0 || oldStatus > 6) return std::nullopt;
    e.status = static_cast<aclk::AlarmStatus>(status);
    e.oldStatus = static_cast<aclk::AlarmStatus>(oldStatus);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  if (e.key.empty()) return std::nullopt;
  return e;
}

#undef ACLKD_ENTRY_FIELDS

}  // namespace aclkd::alerts
