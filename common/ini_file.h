#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aclkd {

// One `key = value` line of an INI file, with where it stood so that every diagnostic can name
// file:line.
struct IniEntry {
  std::string section;
  std::string key;
  std::string value;
  int line = 0;
};

// A parsed file in Netdata's INI dialect: `[section]`, `key = value`, whole-line `#` or `;`
// comments. Unlike inih (Debian's libinih), an indented line is an ordinary line (Netdata writes
// `\tkey = value`), a `;` inside a value is part of the value, and lines have no length limit;
// those three differences are why this reader is written here rather than taken from a library.
struct IniDocument {
  std::string path;
  std::vector<IniEntry> entries;
  // Syntax errors, each already formatted as `path:line: message`.
  std::vector<std::string> errors;

  // The last value given for section/key (later lines override earlier ones, as in Netdata).
  const IniEntry* find(std::string_view section, std::string_view key) const;
};

IniDocument parseIni(std::string_view text, std::string path);

// Reads and parses `path`. nullopt when the file does not exist; a file that exists but cannot be
// read gives a document with one error.
std::optional<IniDocument> readIniFile(const std::string& path);

// One section of an INI file to write.
struct IniSection {
  std::string name;
  std::vector<std::pair<std::string, std::string>> entries;
};
std::string renderIni(const std::vector<IniSection>& sections);

}  // namespace aclkd
