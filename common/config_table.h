#pragma once

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/ini_file.h"

namespace aclkd {

enum class OptionType {
  kString,
  kBool,
  kInt,
  kPath,
  kUrl,    // checked at run time (a bad URL is a link status, not a start failure); warned here
  kProxy,  // none | env | http://… | socks5://… | socks5h://…
  kEnum,
};

// One row of a declarative option table. The same rows drive parsing, validation, `--help`,
// `--check-config` and the generated docs/configuration.md, so an option exists in exactly one
// place.
struct OptionSpec {
  std::string_view file;  // "aclkd.conf", "claim.conf", "stream.conf"
  std::string_view section;
  std::string_view name;
  OptionType type;
  std::string_view defaultValue;
  std::string_view help;
  std::vector<std::string_view> choices = {};  // kEnum
  long long minValue = 0;                      // kInt
  long long maxValue = 0;                      // kInt
};

struct ConfigDiagnostics {
  std::vector<std::string> errors;    // fatal: the daemon refuses to start
  std::vector<std::string> warnings;  // logged, start goes on
};

// Validated values of one file, defaults filled in. Booleans are normalised to "yes"/"no".
class ConfigValues {
 public:
  std::string getString(std::string_view section, std::string_view name) const;
  bool getBool(std::string_view section, std::string_view name) const;
  long long getInt(std::string_view section, std::string_view name) const;
  // Where the value came from: "file:line", or "default".
  std::string origin(std::string_view section, std::string_view name) const;
  bool isSet(std::string_view section, std::string_view name) const;

  void set(std::string_view section, std::string_view name, std::string value, std::string origin);

 private:
  struct Value {
    std::string value;
    std::string origin;
  };
  static std::string keyOf(std::string_view section, std::string_view name);
  std::map<std::string, Value> values_;
};

// Applies `table` rows whose file is `fileName` to `doc` (nullopt: the file is absent, defaults
// only). Unknown options and sections become warnings with file:line; bad values become errors
// with file:line and the accepted values.
ConfigValues loadConfig(const std::vector<OptionSpec>& table, std::string_view fileName,
                        const std::optional<IniDocument>& doc, ConfigDiagnostics& diag);

// Checks one value against its row: false with *problem (the reason and the accepted values)
// when it is not acceptable; *isWarning then says whether the value is still used (a URL that
// does not parse) rather than refused.
bool validateOption(const OptionSpec& spec, const std::string& value, std::string* problem,
                    bool* isWarning);

std::optional<bool> parseBool(std::string_view text);

// Markdown reference of every row (docs/configuration.md) and the plain-text form for --help.
std::string renderOptionsMarkdown(const std::vector<OptionSpec>& table);
std::string renderOptionsHelp(const std::vector<OptionSpec>& table);

}  // namespace aclkd

namespace aclkd {

// The C++ type of an option's value in a typed config struct: bool, long long or text.
template <OptionType T>
struct OptionValue {
  using type = std::string;
};
template <>
struct OptionValue<OptionType::kBool> {
  using type = bool;
};
template <>
struct OptionValue<OptionType::kInt> {
  using type = long long;
};

// "a|b|c" → {"a", "b", "c"} (the choices column of an X-macro row); "" → {}.
std::vector<std::string_view> splitChoices(std::string_view text);

// A validated option text as the C++ type of a typed field.
template <typename T>
T readOptionText(const std::string& text) {
  if constexpr (std::is_same_v<T, bool>) {
    return parseBool(text).value_or(false);
  } else if constexpr (std::is_same_v<T, long long>) {
    long long v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
  } else {
    return text;
  }
}

// One value of `values` as the C++ type of a typed field.
template <typename T>
T readOption(const ConfigValues& values, std::string_view section, std::string_view name) {
  if constexpr (std::is_same_v<T, bool>) {
    return values.getBool(section, name);
  } else if constexpr (std::is_same_v<T, long long>) {
    return values.getInt(section, name);
  } else {
    return values.getString(section, name);
  }
}

}  // namespace aclkd
