#include "stream_bridge/stream_conf.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/file_util.h"
#include "common/ini_file.h"
#include "common/text.h"
#include "common/url.h"
#include "common/uuid.h"

namespace aclkd::stream_bridge {
namespace {

// Options a Netdata parent's stream.conf may carry that mean nothing to a metadata-only bridge.
// Accepted silently so that an operator can reuse the file unchanged.
constexpr std::array<std::string_view, 25> kIgnoredOptions = {
    "default history", "default memory mode", "health enabled by default",
    "default postpone alarms on connect seconds", "postpone alarms on connect seconds",
    "history", "memory mode", "health enabled", "multiple connections",
    "default proxy enabled", "default proxy destination", "default proxy api key",
    "default proxy send charts matching", "proxy enabled", "proxy destination", "proxy api key",
    "proxy send charts matching", "replication period", "replication step", "db", "retention",
    "update every", "seconds to replicate", "replication_step", "default enable compression"};

}  // namespace

const std::vector<OptionSpec>& streamConfOptionTable() {
  static const std::vector<OptionSpec> table = {
#define ACLKD_STREAM_CONF_SPEC(field, kind, name, def, help, choices, min, max)                 \
  {"stream.conf", "API key or machine GUID", name, OptionType::k##kind, def, help, \
   splitChoices(choices), min, max},
      ACLKD_STREAM_CONF_OPTIONS(ACLKD_STREAM_CONF_SPEC)
#undef ACLKD_STREAM_CONF_SPEC
  };
  return table;
}

std::optional<StreamConf> StreamConf::parse(std::string_view text, const std::string& path,
                                            std::vector<std::string>* warnings,
                                            std::vector<std::string>* errors) {
  const auto doc = parseIni(text, path);
  const size_t errorsBefore = errors->size();
  errors->insert(errors->end(), doc.errors.begin(), doc.errors.end());
  StreamConf conf;
  std::string lastSection;
  for (const auto& e : doc.entries) {
    const auto where = path + ":" + std::to_string(e.line) + ": ";
    if (asciiLower(e.section) == "stream") continue;  // the child side of the file
    if (!isUuid(e.section)) {
      if (e.section != lastSection) {
        errors->push_back(where + "section [" + e.section +
                          "] is neither an API key nor a machine GUID (a UUID)");
      }
      lastSection = e.section;
      continue;
    }
    lastSection = e.section;
    auto& s = conf.sections_[asciiLower(e.section)];
    if (s.name.empty()) {
      s.name = asciiLower(e.section);
      s.line = e.line;
    }
    const auto key = asciiLower(e.key);
    const auto& table = streamConfOptionTable();
    const auto spec = std::find_if(table.begin(), table.end(),
                                   [&](const OptionSpec& o) { return o.name == key; });
    if (spec == table.end()) {
      if (std::find(kIgnoredOptions.begin(), kIgnoredOptions.end(), key) ==
          kIgnoredOptions.end()) {
        warnings->push_back(where + "unknown option '" + e.key + "' in section [" + e.section +
                            "]");
      }
      continue;
    }
    const std::string value = spec->type == OptionType::kEnum ? asciiLower(e.value) : e.value;
    bool isWarning = false;
    if (std::string problem; !validateOption(*spec, value, &problem, &isWarning)) {
      errors->push_back(where + "[" + e.section + "] " + e.key + " = '" + e.value + "': " +
                        problem);
      continue;
    }
#define ACLKD_STREAM_CONF_ASSIGN(field, kind, name, ...) \
  if (key == name) s.field = readOptionText<OptionValue<OptionType::k##kind>::type>(value);
    ACLKD_STREAM_CONF_OPTIONS(ACLKD_STREAM_CONF_ASSIGN)
#undef ACLKD_STREAM_CONF_ASSIGN
    if (key == "query url" && !value.empty()) {
      std::string urlError;
      const auto url = parseUrl(value, &urlError);
      if (!url || (url->scheme != "http" && url->scheme != "https")) {
        errors->push_back(where + "[" + e.section + "] " + e.key + " = '" + e.value +
                          "': not an http:// or https:// URL");
      }
    }
    if (key == "compression algorithms order") {
      std::string orderError;
      if (!parseCompressionOrder(value, &orderError)) {
        errors->push_back(where + "[" + e.section + "] " + e.key + " = '" + e.value + "': " +
                          orderError);
      }
    }
  }
  if (errors->size() != errorsBefore) return std::nullopt;
  return conf;
}

std::optional<StreamConf> StreamConf::load(const std::string& path,
                                           std::vector<std::string>* warnings,
                                           std::vector<std::string>* errors) {
  std::string readError;
  const auto text = readFile(path, &readError);
  if (!text) {
    if (readError.empty()) return StreamConf{};  // no file: every key refused
    errors->push_back(path + ": cannot read: " + readError);
    return std::nullopt;
  }
  return parse(*text, path, warnings, errors);
}

const StreamSection* StreamConf::find(std::string_view uuid) const {
  const auto it = sections_.find(asciiLower(uuid));
  return it == sections_.end() ? nullptr : &it->second;
}

AccessDecision StreamConf::check(std::string_view apiKey, std::string_view machineGuid,
                                 std::string_view peerIp) const {
  AccessDecision d;
  d.reply = std::string(kReplyNotPermitted);
  const std::string key(apiKey);
  const std::string guid(machineGuid);
  const std::string ip(peerIp);
  if (!isUuid(apiKey)) {
    d.log = "API key '" + key +
            "' is not valid GUID (use the command uuidgen to generate one). Forbidding access.";
    return d;
  }
  if (!isUuid(machineGuid)) {
    d.log = "machine GUID '" + guid + "' is not GUID.";
    return d;
  }
  const auto* keySection = find(apiKey);
  if (!keySection || !keySection->enabled.value_or(false)) {
    d.log = "API key '" + key + "' is not allowed. Forbidding access.";
    return d;
  }
  const auto allowed = [&](const StreamSection* s) {
    if (!s || !s->allowFrom) return true;
    if (s->allowFrom->empty()) return true;
    return SimplePattern::parse(*s->allowFrom).matches(peerIp);
  };
  if (!allowed(keySection)) {
    d.log = "API key '" + key + "' is not permitted from this IP '" + ip +
            "'. Forbidding access.";
    return d;
  }
  const auto* guidSection = find(machineGuid);
  if (guidSection && !guidSection->enabled.value_or(true)) {
    d.log = "machine GUID '" + guid + "' is not allowed. Forbidding access.";
    return d;
  }
  if (!allowed(guidSection)) {
    d.log = "Machine GUID '" + guid + "' is not permitted from this IP '" + ip +
            "'. Forbidding access.";
    return d;
  }
  d.allowed = true;
  d.reply.clear();
  return d;
}

HostPolicy StreamConf::policy(std::string_view apiKey, std::string_view machineGuid) const {
  HostPolicy p;
  std::string pattern = "*";
  const auto* keySection = find(apiKey);
  const auto* guidSection = find(machineGuid);
  for (const auto* s : {keySection, guidSection}) {
    if (!s) continue;
    if (s->sendChartsMatching) pattern = *s->sendChartsMatching;
    if (s->ephemeral) p.ephemeral = *s->ephemeral;
  }
  p.sendChartsMatching = SimplePattern::parse(pattern);
  return p;
}

QuerySettings StreamConf::querySettings(std::string_view apiKey,
                                        std::string_view machineGuid) const {
  QuerySettings q;
  const auto* keySection = find(apiKey);
  const auto* guidSection = find(machineGuid);
  if (keySection && keySection->queryUrl) q.keyQueryUrl = *keySection->queryUrl;
  if (guidSection && guidSection->queryUrl) q.guidQueryUrl = *guidSection->queryUrl;
  for (const auto* s : {keySection, guidSection}) {  // the GUID's section wins
    if (!s) continue;
    if (s->allowQueries) q.allowQueries = *s->allowQueries;
    if (s->allowFunctions) q.allowFunctions = *s->allowFunctions;
    if (s->caFile) q.caFile = *s->caFile;
    if (s->insecure) q.insecure = *s->insecure;
  }
  return q;
}

std::vector<Compression> StreamConf::compressionOrder(std::string_view apiKey,
                                                      std::string_view machineGuid,
                                                      bool enabledByDefault) const {
  bool enabled = enabledByDefault;
  std::string order(kDefaultCompressionOrder);
  for (const auto* s : {find(apiKey), find(machineGuid)}) {  // the GUID's section wins
    if (!s) continue;
    if (s->enableCompression) enabled = *s->enableCompression;
    if (s->compressionOrder) order = *s->compressionOrder;
  }
  if (!enabled) return {};
  // Checked when the file was read; the default order is the fallback all the same.
  auto parsed = parseCompressionOrder(order, nullptr);
  return parsed ? *parsed : *parseCompressionOrder(kDefaultCompressionOrder, nullptr);
}

}  // namespace aclkd::stream_bridge
