#include "common/config_table.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/fail_with.h"
#include "common/proxy.h"
#include "common/text.h"
#include "common/url.h"

namespace aclkd {
namespace {

std::string_view typeName(OptionType type) {
  switch (type) {
    case OptionType::kString: return "string";
    case OptionType::kBool: return "boolean";
    case OptionType::kInt: return "integer";
    case OptionType::kPath: return "path";
    case OptionType::kUrl: return "URL";
    case OptionType::kProxy: return "proxy";
    case OptionType::kEnum: return "one of";
  }
  return "string";
}

std::string joinChoices(const std::vector<std::string_view>& choices) {
  std::string out;
  for (const auto& c : choices) {
    out += (out.empty() ? "" : ", ") + std::string(c);
  }
  return out;
}

std::string acceptedValues(const OptionSpec& spec) {
  switch (spec.type) {
    case OptionType::kBool: return "yes, no, true, false, on, off, 1, 0";
    case OptionType::kInt:
      return "an integer from " + std::to_string(spec.minValue) + " to " +
             std::to_string(spec.maxValue);
    case OptionType::kEnum: return joinChoices(spec.choices);
    case OptionType::kProxy:
      return "none, env, http://[user:pass@]host[:port], socks5://…, socks5h://…";
    case OptionType::kUrl: return "https://host[:port][/path] or http://host[:port][/path]";
    case OptionType::kPath: return "a non-empty path";
    case OptionType::kString: return "any text";
  }
  return "";
}

// Diagnostics go to stderr and the log, so a proxy value is echoed without its userinfo.
std::string shownValue(const OptionSpec& spec, const std::string& value) {
  if (spec.type != OptionType::kProxy) {
    return value;
  }
  const auto scheme = value.find("://");
  const auto at = value.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) {
    return value;
  }
  return value.substr(0, scheme + 3) + "***" + value.substr(at);
}

}  // namespace

std::optional<bool> parseBool(std::string_view text) {
  const std::string lower = asciiLower(text);
  if (lower == "yes" || lower == "true" || lower == "on" || lower == "1") {
    return true;
  }
  if (lower == "no" || lower == "false" || lower == "off" || lower == "0") {
    return false;
  }
  return std::nullopt;
}

std::vector<std::string_view> splitChoices(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t bar = text.find('|');
    out.push_back(text.substr(0, bar));
    text = bar == std::string_view::npos ? std::string_view{} : text.substr(bar + 1);
  }
  return out;
}

std::string ConfigValues::keyOf(std::string_view section, std::string_view name) {
  return std::string(section) + "\x1f" + std::string(name);
}

void ConfigValues::set(std::string_view section, std::string_view name, std::string value,
                       std::string origin) {
  values_[keyOf(section, name)] = Value{std::move(value), std::move(origin)};
}

std::string ConfigValues::getString(std::string_view section, std::string_view name) const {
  const auto it = values_.find(keyOf(section, name));
  return it == values_.end() ? std::string() : it->second.value;
}

bool ConfigValues::getBool(std::string_view section, std::string_view name) const {
  return parseBool(getString(section, name)).value_or(false);
}

long long ConfigValues::getInt(std::string_view section, std::string_view name) const {
  const std::string text = getString(section, name);
  long long v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

std::string ConfigValues::origin(std::string_view section, std::string_view name) const {
  const auto it = values_.find(keyOf(section, name));
  return it == values_.end() ? std::string() : it->second.origin;
}

bool ConfigValues::isSet(std::string_view section, std::string_view name) const {
  const auto it = values_.find(keyOf(section, name));
  return it != values_.end() && it->second.origin != "default";
}

bool validateOption(const OptionSpec& spec, const std::string& value, std::string* problem,
                    bool* isWarning) {
  *isWarning = false;
  switch (spec.type) {
    case OptionType::kString: return true;
    case OptionType::kPath:
      return !value.empty() || failWith(problem, "expected a non-empty path");
    case OptionType::kBool:
      return parseBool(value).has_value() ||
             failWith(problem, "expected a boolean (" + acceptedValues(spec) + ")");
    case OptionType::kInt: {
      long long v = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || ptr != value.data() + value.size() || v < spec.minValue ||
          v > spec.maxValue) {
        return failWith(problem, "expected " + acceptedValues(spec));
      }
      return true;
    }
    case OptionType::kEnum:
      return std::find(spec.choices.begin(), spec.choices.end(), value) != spec.choices.end() ||
             failWith(problem, "expected one of: " + acceptedValues(spec));
    case OptionType::kProxy: {
      std::string error;
      if (!parseProxyValue(value, &error)) {
        return failWith(problem, error + " (accepted: " + acceptedValues(spec) + ")");
      }
      return true;
    }
    case OptionType::kUrl: {
      if (value.empty()) {
        return true;
      }
      std::string error;
      if (!parseUrl(value, &error)) {
        *isWarning = true;
        return failWith(problem, error + " (accepted: " + acceptedValues(spec) + ")");
      }
      return true;
    }
  }
  return true;
}

ConfigValues loadConfig(const std::vector<OptionSpec>& table, std::string_view fileName,
                        const std::optional<IniDocument>& doc, ConfigDiagnostics& diag) {
  ConfigValues values;
  std::set<std::string> knownSections;
  for (const auto& spec : table) {
    if (spec.file == fileName) {
      values.set(spec.section, spec.name, std::string(spec.defaultValue), "default");
      knownSections.insert(std::string(spec.section));
    }
  }
  if (!doc) {
    return values;
  }
  for (const auto& e : doc->errors) {
    diag.errors.push_back(e);
  }
  for (const auto& entry : doc->entries) {
    const auto where = doc->path + ":" + std::to_string(entry.line) + ": ";
    const auto spec = std::find_if(table.begin(), table.end(), [&](const OptionSpec& s) {
      return s.file == fileName && s.section == entry.section && s.name == entry.key;
    });
    if (spec == table.end()) {
      if (knownSections.count(entry.section) == 0) {
        diag.warnings.push_back(where + "unknown section [" + entry.section + "] (option '" +
                                entry.key + "' ignored)");
      } else {
        diag.warnings.push_back(where + "unknown option '" + entry.key + "' in section [" +
                                entry.section + "] (ignored)");
      }
      continue;
    }
    bool isWarning = false;
    std::string problem;
    validateOption(*spec, entry.value, &problem, &isWarning);
    const std::string message = where + "[" + entry.section + "] " + entry.key + " = '" +
                                shownValue(*spec, entry.value) + "': " + problem;
    if (!problem.empty() && !isWarning) {
      diag.errors.push_back(message);
      continue;
    }
    if (!problem.empty()) {
      diag.warnings.push_back(message);
    }
    std::string value = entry.value;
    if (spec->type == OptionType::kBool) {
      value = *parseBool(value) ? "yes" : "no";
    }
    values.set(entry.section, entry.key, std::move(value),
               doc->path + ":" + std::to_string(entry.line));
  }
  return values;
}

std::string renderOptionsMarkdown(const std::vector<OptionSpec>& table) {
  std::string out;
  std::string file, section;
  for (const auto& spec : table) {
    if (spec.file != file) {
      file = spec.file;
      section.clear();
      out += "\n## `" + file + "`\n";
    }
    if (spec.section != section) {
      section = spec.section;
      out += "\n### `[" + section + "]`\n\n| option | type | default | accepted | meaning |\n"
             "|---|---|---|---|---|\n";
    }
    out += "| `" + std::string(spec.name) + "` | " + std::string(typeName(spec.type)) + " | " +
           (spec.defaultValue.empty() ? std::string("(empty)")
                                      : "`" + std::string(spec.defaultValue) + "`") +
           " | " + acceptedValues(spec) + " | " + std::string(spec.help) + " |\n";
  }
  return out;
}

std::string renderOptionsHelp(const std::vector<OptionSpec>& table) {
  std::string out;
  std::string file;
  for (const auto& spec : table) {
    if (spec.file != file) {
      file = spec.file;
      out += "\n" + file + ":\n";
    }
    out += "  [" + std::string(spec.section) + "] " + std::string(spec.name) + " = " +
           (spec.defaultValue.empty() ? std::string("(empty)") : std::string(spec.defaultValue)) +
           "\n      " + std::string(spec.help) + " (" + acceptedValues(spec) + ")\n";
  }
  return out;
}

}  // namespace aclkd
