#include "cli/table_text.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

namespace aclkd::cli {

std::string renderTable(const std::string& arrayJson) {
  const auto rows = nlohmann::ordered_json::parse(arrayJson, nullptr, false);
  if (!rows.is_array()) return "malformed table from aclkd\n";
  if (rows.empty()) return "(none)\n";
  std::vector<std::string> keys;
  for (const auto& [k, v] : rows[0].items()) keys.push_back(k);
  std::vector<std::vector<std::string>> cells;
  cells.push_back(keys);
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (const auto& k : keys) {
      const auto it = row.find(k);
      if (it == row.end()) {
        line.emplace_back("-");
      } else if (it->is_string()) {
        line.push_back(it->get<std::string>().empty() ? "-" : it->get<std::string>());
      } else if (it->is_boolean()) {
        line.emplace_back(it->get<bool>() ? "yes" : "no");
      } else if (it->is_number_float()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", it->get<double>());
        line.emplace_back(buf);
      } else {
        line.push_back(it->dump());
      }
    }
    cells.push_back(std::move(line));
  }
  std::vector<size_t> width(keys.size(), 0);
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out;
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size()) out += std::string(width[i] - line[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace aclkd::cli
