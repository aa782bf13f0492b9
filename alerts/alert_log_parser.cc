#include "alerts/alert_log_parser.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/uuid.h"

namespace aclkd::alerts {
namespace {

using Json = nlohmann::json;
using aclk::AlarmConfig;
using aclk::AlarmEntry;

// Field readers that never throw: a missing field, null or the wrong type is the default.
std::string str(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number()) return Json(*it).dump();
  return "";
}

uint64_t u64(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer()) return static_cast<uint64_t>(std::max<int64_t>(0, it->get<int64_t>()));
  if (it->is_number_float()) {
    const double d = it->get<double>();
    return d > 0 && d < 1.8e19 ? static_cast<uint64_t>(d) : 0;
  }
  if (it->is_string()) {  // 1.37 writes some numbers as strings ("last_repeat": "0")
    const auto& s = it->get_ref<const std::string&>();
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9' || v > std::numeric_limits<uint64_t>::max() / 10 - 10) return 0;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
  }
  return 0;
}

uint32_t u32(const Json& j, const char* key) {
  return static_cast<uint32_t>(std::min<uint64_t>(u64(j, key), std::numeric_limits<uint32_t>::max()));
}

int32_t i32(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  const double d = it->get<double>();
  if (!std::isfinite(d) || d > 2e9 || d < -2e9) return 0;
  return static_cast<int32_t>(d);
}

double dbl(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  const double d = it->get<double>();
  return std::isfinite(d) ? d : 0;
}

bool boolean(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return it->get_ref<const std::string&>() == "true";  // 1.37's "silenced"
  return false;
}

const Json& obj(const Json& j, const char* key) {
  static const Json kEmpty = Json::object();
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

// The agents HTML-escape expressions in /api/v1/alarms ("$this &gt;= 0").
std::string unescapeHtml(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&gt;", ">"}, {"&lt;", "<"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) {
      s.replace(at, std::char_traits<char>::length(from), to);
    }
  }
  return s;
}

// The health.d `lookup` line an agent parsed its fields from, e.g. "average -10s unaligned of
// user"; "" without a method.
std::string lookupLine(const AlarmConfig& c) {
  if (c.lookupMethod.empty()) return "";
  std::string out = c.lookupMethod + " " + std::to_string(c.lookupAfter) + "s";
  if (c.lookupBefore != 0) out += " at " + std::to_string(c.lookupBefore) + "s";
  if (!c.lookupOptions.empty()) out += " " + c.lookupOptions;
  if (!c.lookupDimensions.empty()) out += " of " + c.lookupDimensions;
  return out;
}

bool parseDocument(std::string_view body, Json* out, std::string* error) {
  *out = Json::parse(body.begin(), body.end(), nullptr, false);
  if (out->is_discarded()) {
    *error = "the answer is not JSON (" + std::to_string(body.size()) + " bytes)";
    return false;
  }
  return true;
}

void sortOldestFirst(std::vector<AlarmEntry>* entries) {
  std::stable_sort(entries->begin(), entries->end(),
                   [](const AlarmEntry& a, const AlarmEntry& b) { return a.cursor < b.cursor; });
}

// The 1.37 hash fields, in the order derivedConfigHash documents.
std::string v1Hash(const Json& j) {
  const std::string name = str(j, "name"), source = str(j, "source"), units = str(j, "units"),
                    info = str(j, "info"), cls = str(j, "class"), component = str(j, "component"),
                    type = str(j, "type"), exec = str(j, "exec"), recipient = str(j, "recipient");
  return derivedConfigHash({name, source, units, info, cls, component, type, exec, recipient});
}

}  // namespace

aclk::AlarmStatus statusFromName(std::string_view name) {
  using S = aclk::AlarmStatus;
  if (name == "REMOVED") return S::kRemoved;
  if (name == "UNDEFINED") return S::kNotANumber;
  if (name == "CLEAR") return S::kClear;
  if (name == "WARNING") return S::kWarning;
  if (name == "CRITICAL") return S::kCritical;
  if (name == "UNINITIALIZED") return S::kUnknown;
  return S::kNull;
}

bool isZeroHash(std::string_view hash) {
  return std::all_of(hash.begin(), hash.end(), [](char c) { return c == '0' || c == '-'; });
}

std::string derivedConfigHash(const std::vector<std::string_view>& fields) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  static constexpr std::string_view kDomain = "aclkd alert config v1";
  EVP_DigestUpdate(ctx, kDomain.data(), kDomain.size());
  for (const auto f : fields) {
    const uint64_t n = f.size();  // length-prefixed: ("ab","c") and ("a","bc") differ
    EVP_DigestUpdate(ctx, &n, sizeof n);
    EVP_DigestUpdate(ctx, f.data(), f.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  std::array<unsigned char, 16> bytes{};
  std::copy(digest, digest + bytes.size(), bytes.begin());
  return uuidFromBytes(bytes, 5);
}

bool parseV1AlarmLog(std::string_view body, std::vector<AlarmEntry>* out, std::string* error) {
  Json doc;
  if (!parseDocument(body, &doc, error)) return false;
  if (!doc.is_array()) {
    *error = "alarm_log is not a JSON array";
    return false;
  }
  out->clear();
  for (const auto& j : doc) {
    if (!j.is_object()) continue;
    AlarmEntry e;
    e.name = str(j, "name");
    e.chart = str(j, "chart");
    e.cursor = u64(j, "unique_id");
    if (e.name.empty() || e.chart.empty() || e.cursor == 0) continue;  // not an alert transition
    e.key = e.chart + "." + e.name;
    e.chartName = e.chart;
    e.chartContext = str(j, "context");
    e.family = str(j, "family");
    e.when = u64(j, "when");
    e.configHash = str(j, "config_hash_id");
    if (e.configHash.empty() || isZeroHash(e.configHash)) e.configHash = v1Hash(j);
    e.utcOffset = i32(j, "utc_offset");
    e.timezone = str(j, "timezone");
    e.execPath = str(j, "exec");
    e.confSource = str(j, "source");
    e.command = str(j, "command");
    e.duration = u32(j, "duration");
    e.nonClearDuration = u32(j, "non_clear_duration");
    e.status = statusFromName(str(j, "status"));
    e.oldStatus = statusFromName(str(j, "old_status"));
    e.delay = u32(j, "delay");
    e.delayUpToTimestamp = u64(j, "delay_up_to_timestamp");
    e.lastRepeat = u64(j, "last_repeat");
    e.silenced = boolean(j, "silenced");
    e.valueString = str(j, "value_string");
    e.oldValueString = str(j, "old_value_string");
    e.value = dbl(j, "value");
    e.oldValue = dbl(j, "old_value");
    e.updated = boolean(j, "updated");
    e.renderedInfo = str(j, "info");
    e.eventId = u64(j, "alarm_event_id");
    e.transitionId = str(j, "transition_id");  // newer agents only
    e.summary = str(j, "summary");
    e.units = str(j, "units");
    out->push_back(std::move(e));
  }
  sortOldestFirst(out);
  return true;
}

bool parseV2Transitions(std::string_view body, std::vector<AlarmEntry>* out, std::string* error) {
  Json doc;
  if (!parseDocument(body, &doc, error)) return false;
  const auto it = doc.is_object() ? doc.find("transitions") : doc.end();
  if (it == doc.end() || !it->is_array()) {
    *error = "alert_transitions has no \"transitions\" array";
    return false;
  }
  out->clear();
  for (const auto& j : *it) {
    if (!j.is_object()) continue;
    AlarmEntry e;
    e.name = str(j, "alert");
    e.chart = str(j, "instance");
    e.cursor = u64(j, "gi");
    if (e.name.empty() || e.chart.empty() || e.cursor == 0) continue;
    e.key = e.chart + "." + e.name;
    e.chartName = str(j, "instance_n");
    e.chartContext = str(j, "context");
    e.when = u64(j, "when");
    e.configHash = str(j, "config_hash_id");
    e.transitionId = str(j, "transition_id");
    e.renderedInfo = str(j, "info");
    e.summary = str(j, "summary");
    e.units = str(j, "units");
    const Json& now = obj(j, "new");
    const Json& old = obj(j, "old");
    e.status = statusFromName(str(now, "status"));
    e.value = dbl(now, "value");
    e.oldStatus = statusFromName(str(old, "status"));
    e.oldValue = dbl(old, "value");
    e.duration = u32(old, "duration");
    e.nonClearDuration = u32(old, "raised_duration");
    const Json& n = obj(j, "notification");
    e.execPath = str(n, "exec");
    e.delay = u32(n, "delay");
    e.delayUpToTimestamp = u64(n, "delay_up_to_time");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g%s", e.value, e.units == "percentage" ? "%" : "");
    e.valueString = buf;
    std::snprintf(buf, sizeof buf, "%g%s", e.oldValue, e.units == "percentage" ? "%" : "");
    e.oldValueString = buf;
    out->push_back(std::move(e));
  }
  sortOldestFirst(out);
  return true;
}

bool parseAlarmsAll(std::string_view body, std::vector<AgentAlarm>* out, std::string* error) {
  Json doc;
  if (!parseDocument(body, &doc, error)) return false;
  const auto it = doc.is_object() ? doc.find("alarms") : doc.end();
  if (it == doc.end() || !it->is_object()) {
    *error = "alarms has no \"alarms\" object";
    return false;
  }
  out->clear();
  for (const auto& [key, j] : it->items()) {
    if (!j.is_object()) continue;
    AgentAlarm a;
    a.key = key;
    a.configHash = str(j, "config_hash_id");
    a.agentHash = !a.configHash.empty() && !isZeroHash(a.configHash);
    if (!a.agentHash) a.configHash = v1Hash(j);
    AlarmConfig& c = a.config;
    c.alarm = str(j, "name");
    c.onChart = str(j, "chart");
    c.classification = str(j, "class");
    c.type = str(j, "type");
    c.component = str(j, "component");
    c.units = str(j, "units");
    c.info = str(j, "info");
    c.summary = str(j, "summary");
    c.recipient = str(j, "recipient");
    c.exec = str(j, "exec");
    c.green = str(j, "green");
    c.red = str(j, "red");
    c.calculation = unescapeHtml(str(j, "calc"));
    c.warning = unescapeHtml(str(j, "warn"));
    c.critical = unescapeHtml(str(j, "crit"));
    c.updateEvery = i32(j, "update_every");
    c.every = c.updateEvery > 0 ? std::to_string(c.updateEvery) + "s" : "";
    c.lookupMethod = str(j, "lookup_method");
    c.lookupAfter = i32(j, "lookup_after");
    c.lookupBefore = i32(j, "lookup_before");
    c.lookupOptions = str(j, "lookup_options");
    c.lookupDimensions = str(j, "lookup_dimensions");
    c.lookup = lookupLine(c);
    c.delay = str(j, "delay");
    out->push_back(std::move(a));
  }
  return true;
}

bool parseV2AlertConfig(std::string_view body, AlarmConfig* out, std::string* error) {
  Json doc;
  if (!parseDocument(body, &doc, error)) return false;
  if (!doc.is_object() || str(doc, "name").empty()) {
    *error = "alert_config is not an alert definition";
    return false;
  }
  *out = AlarmConfig{};
  const Json& sel = obj(doc, "selectors");
  (str(sel, "type") == "template" ? out->templateName : out->alarm) = str(doc, "name");
  out->onChart = str(sel, "on");
  out->hostLabels = str(sel, "host_labels");
  out->chartLabels = str(sel, "chart_labels");
  const Json& value = obj(doc, "value");
  out->units = str(value, "units");
  out->calculation = str(value, "calc");
  out->updateEvery = i32(value, "update_every");
  out->every = out->updateEvery > 0 ? std::to_string(out->updateEvery) + "s" : "";
  const Json& db = obj(value, "db");
  out->lookupAfter = i32(db, "after");
  out->lookupBefore = i32(db, "before");
  out->lookupMethod = str(db, "method");
  out->lookupDimensions = str(db, "dimensions");
  if (const auto o = db.find("options"); o != db.end() && o->is_array()) {
    for (const auto& opt : *o) {
      if (!opt.is_string()) continue;
      if (!out->lookupOptions.empty()) out->lookupOptions += " ";
      out->lookupOptions += opt.get<std::string>();
    }
  }
  out->lookup = lookupLine(*out);
  const Json& status = obj(doc, "status");
  out->green = str(status, "green");
  out->red = str(status, "red");
  out->warning = str(status, "warn");
  out->critical = str(status, "crit");
  const Json& n = obj(doc, "notification");
  out->exec = str(n, "exec");
  out->recipient = str(n, "to");
  out->delay = str(n, "delay");
  out->repeat = str(n, "repeat");
  out->options = str(n, "options");
  out->classification = str(doc, "class");
  out->component = str(doc, "component");
  out->type = str(doc, "type");
  out->info = str(doc, "info");
  out->summary = str(doc, "summary");
  return true;
}

}  // namespace aclkd::alerts
