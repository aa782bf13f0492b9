#include "common/ini_file.h"

#include "common/file_util.h"

namespace aclkd {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

const IniEntry* IniDocument::find(std::string_view section, std::string_view key) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->section == section && it->key == key) {
      return &*it;
    }
  }
  return nullptr;
}

IniDocument parseIni(std::string_view text, std::string path) {
  IniDocument doc;
  doc.path = std::move(path);
  std::string section;
  int lineNo = 0;
  size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    pos = 3;
  }
  while (pos <= text.size()) {
    const size_t end = text.find('\n', pos);
    const std::string_view raw =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() + 1 : end + 1;
    ++lineNo;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    const auto where = doc.path + ":" + std::to_string(lineNo) + ": ";
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        doc.errors.push_back(where + "malformed section header '" + std::string(line) +
                             "' (expected [name])");
        continue;
      }
      section = std::string(trim(line.substr(1, line.size() - 2)));
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      doc.errors.push_back(where + "expected 'name = value', got '" + std::string(line) + "'");
      continue;
    }
    const std::string_view key = trim(line.substr(0, eq));
    if (key.empty()) {
      doc.errors.push_back(where + "missing option name before '='");
      continue;
    }
    if (section.empty()) {
      doc.errors.push_back(where + "option '" + std::string(key) + "' is outside any [section]");
      continue;
    }
    doc.entries.push_back(
        IniEntry{section, std::string(key), std::string(trim(line.substr(eq + 1))), lineNo});
  }
  return doc;
}

std::optional<IniDocument> readIniFile(const std::string& path) {
  std::string error;
  auto text = readFile(path, &error);
  if (!text) {
    if (error.empty()) {
      return std::nullopt;  // does not exist
    }
    IniDocument doc;
    doc.path = path;
    doc.errors.push_back(path + ": " + error);
    return doc;
  }
  return parseIni(*text, path);
}

std::string renderIni(const std::vector<IniSection>& sections) {
  std::string out;
  for (const auto& section : sections) {
    if (!out.empty()) {
      out += '\n';
    }
    out += "[" + section.name + "]\n";
    for (const auto& [key, value] : section.entries) {
      out += "    " + key + " = " + value + "\n";
    }
  }
  return out;
}

}  // namespace aclkd
