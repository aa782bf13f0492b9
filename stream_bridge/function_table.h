#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "stream_bridge/stream_parser.h"

namespace aclkd::stream_bridge {

// One function a stream declared (docs/protocol/streaming.md §15.1).
struct DeclaredFunction {
  std::string name;
  std::string help;
  std::string tags;
  int timeoutSeconds = 10;  // Netdata's default when the child gives none
  uint32_t access = 0;
  bool accessKnown = false;
  int priority = 100;       // Netdata's default priority
  uint32_t version = 0;
  bool global = false;         // declared with GLOBAL
  // The charts of a chart-scoped declaration, sorted. A vector: 1.37 declares `processes` on
  // every apps chart of a live host, and a tree's node per chart cost that host 3 KB.
  std::vector<std::string> charts;
};

// The functions one live stream declared: metadata, like its charts, and gone with the stream.
// Keyed by name: a call names the function, never its chart, and 1.37 declares `processes` once
// per apps chart (seventy-two times), which is one function. A chart-scoped function goes when
// its last chart's FUNCTION_DEL does.
class FunctionTable {
 public:
  // Netdata's defaults for what an old child leaves out.
  static constexpr int kDefaultTimeoutSeconds = 10;
  static constexpr int kDefaultPriority = 100;
  // A stream declares a handful; a table past this many is a misbehaving child, not a node.
  static constexpr size_t kMaxFunctions = 1024;

  // True when the table changed. `chartId` empty for GLOBAL. False when full (the declaration is
  // dropped; the caller counts it).
  bool declare(std::string_view chartId, const FunctionDeclaration& f, bool* full = nullptr);
  bool remove(std::string_view chartId, std::string_view name);
  void clear() { functions_.clear(); }

  size_t size() const { return functions_.size(); }
  bool empty() const { return functions_.empty(); }
  const DeclaredFunction* find(std::string_view name) const;
  const std::map<std::string, DeclaredFunction, std::less<>>& all() const { return functions_; }

 private:
  std::map<std::string, DeclaredFunction, std::less<>> functions_;
};

// The names of the HTTP access bits (Netdata's, in bit order), as the functions lists show them.
std::vector<std::string> accessNames(uint32_t access);

// The node a functions list describes.
struct FunctionsListHost {
  std::string machineGuid;
  std::string hostname;
  std::string nodeId;  // the cloud's, "" when none yet
};

// The functions list as the node's agent answers it (docs/protocol/streaming.md §15.4):
// `/api/v1/functions` (apiVersion 1) is a map by name, `/api/v2|v3/functions` the v2 document
// with its one node.
std::string renderFunctionsList(const FunctionTable& table, const FunctionsListHost& host,
                                int apiVersion, int64_t nowSeconds);

// The name a function call addresses: the first word of the call's command ("config tree '/' ''"
// calls `config`).
std::string_view functionNameOf(std::string_view command);

}  // namespace aclkd::stream_bridge
