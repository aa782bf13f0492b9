#include "stream_bridge/function_table.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace aclkd::stream_bridge {

bool FunctionTable::declare(std::string_view chartId, const FunctionDeclaration& f, bool* full) {
  if (full != nullptr) *full = false;
  auto it = functions_.find(f.name);
  if (it == functions_.end()) {
    if (functions_.size() >= kMaxFunctions) {
      if (full != nullptr) *full = true;
      return false;
    }
    it = functions_.emplace(std::string(f.name), DeclaredFunction{}).first;
    it->second.name = std::string(f.name);
  }
  DeclaredFunction& d = it->second;
  const int timeoutSeconds = f.timeoutSeconds > 0 ? f.timeoutSeconds : kDefaultTimeoutSeconds;
  const int priority = f.priority > 0 ? f.priority : kDefaultPriority;
  bool changed = d.help != f.help || d.tags != f.tags || d.timeoutSeconds != timeoutSeconds ||
                 d.access != f.access || d.priority != priority || d.version != f.version ||
                 d.name.empty();
  d.help = std::string(f.help);
  d.tags = std::string(f.tags);
  d.timeoutSeconds = timeoutSeconds;
  d.access = f.access;
  d.accessKnown = f.accessKnown;
  d.priority = priority;
  d.version = f.version;
  if (chartId.empty()) {
    changed = changed || !d.global;
    d.global = true;
  } else {
    const auto at = std::lower_bound(d.charts.begin(), d.charts.end(), chartId);
    if (at == d.charts.end() || *at != chartId) {
      d.charts.emplace(at, chartId);
      changed = true;
    }
  }
  return changed;
}

bool FunctionTable::remove(std::string_view chartId, std::string_view name) {
  auto it = functions_.find(name);
  if (it == functions_.end()) return false;
  if (chartId.empty()) {
    functions_.erase(it);
    return true;
  }
  auto& charts = it->second.charts;
  const auto chart = std::lower_bound(charts.begin(), charts.end(), chartId);
  if (chart == charts.end() || *chart != chartId) return false;
  charts.erase(chart);
  if (charts.empty() && !it->second.global) functions_.erase(it);
  return true;
}

const DeclaredFunction* FunctionTable::find(std::string_view name) const {
  const auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : &it->second;
}

std::vector<std::string> accessNames(uint32_t access) {
  static constexpr const char* kNames[] = {
      "signed-in",         "same-space",        "commercial",
      "anonymous-data",    "sensitive-data",    "view-agent-config",
      "edit-agent-config", "view-notifications-config", "edit-notifications-config",
      "view-alerts-silencing", "edit-alerts-silencing"};
  std::vector<std::string> out;
  for (size_t bit = 0; bit < std::size(kNames); ++bit) {
    if (access & (1u << bit)) out.emplace_back(kNames[bit]);
  }
  return out;
}

std::string renderFunctionsList(const FunctionTable& table, const FunctionsListHost& host,
                                int apiVersion, int64_t nowSeconds) {
  using nlohmann::ordered_json;
  if (apiVersion == 1) {
    ordered_json byName = ordered_json::object();
    for (const auto& [name, f] : table.all()) {
      ordered_json j;
      j["help"] = f.help;
      j["timeout"] = f.timeoutSeconds;
      j["version"] = f.version;
      j["options"] = f.global ? ordered_json::array({"GLOBAL"}) : ordered_json::array();
      j["tags"] = f.tags;
      j["access"] = accessNames(f.access);
      j["priority"] = f.priority;
      byName[name] = std::move(j);
    }
    ordered_json out;
    out["functions"] = std::move(byName);
    return out.dump();
  }
  ordered_json out;
  out["api"] = 2;
  ordered_json node;
  node["mg"] = host.machineGuid;
  if (!host.nodeId.empty()) node["nd"] = host.nodeId;
  node["nm"] = host.hostname;
  node["ni"] = 0;
  node["st"] = {{"ai", 0}, {"code", 200}, {"msg", ""}};
  out["nodes"] = ordered_json::array({node});
  ordered_json functions = ordered_json::array();
  for (const auto& [name, f] : table.all()) {
    ordered_json j;
    j["name"] = name;
    j["help"] = f.help;
    j["ni"] = ordered_json::array({0});
    j["priority"] = f.priority;
    j["version"] = f.version;
    j["tags"] = f.tags;
    j["access"] = accessNames(f.access);
    functions.push_back(std::move(j));
  }
  out["functions"] = std::move(functions);
  ordered_json agent;
  agent["mg"] = host.machineGuid;
  agent["nd"] = host.nodeId.empty() ? ordered_json(nullptr) : ordered_json(host.nodeId);
  agent["nm"] = host.hostname;
  agent["now"] = nowSeconds;
  agent["ai"] = 0;
  out["agents"] = ordered_json::array({agent});
  return out.dump();
}

std::string_view functionNameOf(std::string_view command) {
  size_t start = 0;
  while (start < command.size() && command[start] == ' ') ++start;
  size_t end = start;
  while (end < command.size() && command[end] != ' ') ++end;
  return command.substr(start, end - start);
}

}  // namespace aclkd::stream_bridge
