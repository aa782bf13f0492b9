// The registry's part in functions: the table each live stream declares (metadata like its
// charts, gone with the stream) and what follows from it for the cloud: a node is announced with
// `funcs` exactly while a call can reach it, and with `dyncfg` while it also declares `config`
// (docs/protocol/streaming.md §15, docs/protocol/aclk.md §7.3). The calls themselves are the
// stream connection's (function_calls.h).

#include "stream_bridge/node_registry.h"
#include "stream_bridge/registry_types.h"

#include <spdlog/spdlog.h>

namespace aclkd::stream_bridge {

void NodeRegistry::setFunctionsPolicy(FunctionsAllowed allowed) {
  std::lock_guard lock(mutex_);
  functionsAllowed_ = std::move(allowed);
}

std::optional<NodeRegistry::NodeFunctions> NodeRegistry::functionsOf(
    const std::string& machineGuid) const {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(machineGuid);
  if (it == nodes_.end() || !it->second->info.live) return std::nullopt;
  return NodeFunctions{it->second->info.hostname, it->second->functions};
}

NodeRegistry::FunctionState NodeRegistry::functionState(const Node& n) const {
  FunctionState s;
  if (!n.info.live) {
    s.functionsOff = "the node is offline";
  } else if (!(n.streamCapabilities & cap::kFunctions)) {
    s.functionsOff = "its stream did not negotiate FUNCTIONS";
  } else if (const std::string refused =
                 functionsAllowed_ ? functionsAllowed_(n.apiKey, n.info.machineGuid) : "";
             !refused.empty()) {
    s.functionsOff = refused;
  } else if (n.functions.empty()) {
    s.functionsOff = "the node declares no functions";
  } else {
    s.features.functions = true;
  }
  if (!s.features.functions) {
    s.dyncfgOff = "functions are off";
  } else if (!(n.streamCapabilities & cap::kDyncfg)) {
    s.dyncfgOff = "its stream did not negotiate DYNCFG";
  } else if (n.functions.find("config") == nullptr) {
    s.dyncfgOff = "the node declares no `config` function";
  } else {
    s.features.dyncfg = true;
  }
  return s;
}

void NodeRegistry::Stream::setCapabilities(uint64_t negotiated) {
  {
    std::lock_guard lock(registry_.mutex_);
    node_.streamCapabilities = negotiated;
    node_.functionsFullWarned = false;
  }
  registry_.notify();
}

void NodeRegistry::Stream::onFunction(std::string_view chartId, const FunctionDeclaration& f) {
  bool changedFeatures = false;
  {
    std::lock_guard lock(registry_.mutex_);
    const auto before = registry_.functionState(node_).features;
    bool full = false;
    node_.functions.declare(chartId, f, &full);
    if (full) {
      ++registry_.functionsRefused_;
      // Once per stream: the child keeps declaring, the log need not repeat it.
      if (!node_.functionsFullWarned) {
        node_.functionsFullWarned = true;
        spdlog::warn("STREAM: node \"{}\" declares more than {} functions; the rest are dropped",
                     node_.info.hostname, FunctionTable::kMaxFunctions);
      }
    }
    changedFeatures = registry_.functionState(node_).features != before;
  }
  if (changedFeatures) registry_.notify();
}

void NodeRegistry::Stream::onFunctionDel(std::string_view chartId, std::string_view name) {
  bool changedFeatures = false;
  {
    std::lock_guard lock(registry_.mutex_);
    const auto before = registry_.functionState(node_).features;
    node_.functions.remove(chartId, name);
    changedFeatures = registry_.functionState(node_).features != before;
  }
  if (changedFeatures) registry_.notify();
}

uint64_t NodeRegistry::functionsRefused() const {
  std::lock_guard lock(mutex_);
  return functionsRefused_;
}

}  // namespace aclkd::stream_bridge
