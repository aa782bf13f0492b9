#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "aclk/cmd_handler.h"
#include "query/agent_target.h"
#include "query/forward_client.h"
#include "query/function_client.h"
#include "query/function_route.h"
#include "query/query_stats.h"

namespace aclkd::query {

struct ProxyOptions {
  bool enabled = true;                           // [cloud] query proxy
  int defaultPort = 19999;                       // [cloud] query default port
  std::set<std::string> forwardHeaders;          // [cloud] query forward headers (lower case)
  std::chrono::milliseconds defaultTimeout{60000};  // when the cloud sends no `timeout`
  size_t maxReplyBytes = 16u << 20;              // docs/protocol/aclk.md §8.2: 413 + EC 4 above it
};

// The cloud's `cmd` requests (docs/protocol/aclk.md §8): the gateway's own node is answered by its
// local API; a relayed node's request goes to the agent that holds its metrics (query/cloud_path.h
// says how a path selects a node, agent_target.h where its agent is) and the agent's answer goes
// back as is.
//
// Decisions where Netdata's agent gives no rule (docs/protocol/aclk.md §8.1): a node whose stream
// is disconnected is not tried (503, "offline"); a cancelled request is answered 499 so the cloud's
// bookkeeping sees it end; node ids in scope_nodes=/nodes= become machine GUIDs on the way (agents
// do not know the ids this cloud gave them); a v2/v3 scope spanning nodes of different agents is
// refused (400), since the gateway keeps no metrics to merge.
//
// Functions (docs/protocol/aclk.md §8.3): for a relayed node whose stream can carry them, the
// cloud's function calls, functions lists and dynamic configuration go down that stream
// (FunctionClient), not over HTTP; they are counted apart (aclkd_function_calls_total). A node
// whose stream cannot (an agent without FUNCTIONS, or one that declares none) keeps the HTTP
// way; one whose functions the configuration forbids gets 403 with the reason.
class QueryProxy : public aclk::CmdHandler {
 public:
  using LocalApi =
      std::function<aclk::LocalHttpResponse(const std::string& method, const std::string& path)>;
  // Every node the gateway knows, itself included (self = true). Called at most once a second,
  // and again when a request names a node not in the last answer.
  using NodeSource = std::function<std::vector<NodeFacts>()>;

  QueryProxy(ProxyOptions options, LocalApi local, NodeSource nodes,
             std::shared_ptr<ForwardClient> client);

  void start(const aclk::CloudHttpRequest& request, Completion done) override;
  void cancel(const std::string& msgId) override;

  const QueryStats& stats() const { return stats_; }
  const FunctionStats& functionStats() const { return functionStats_; }
  // Set before the first request.
  void setFunctionClient(std::shared_ptr<FunctionClient> functions) {
    functions_ = std::move(functions);
  }

 private:
  bool resolve(const std::string& key, NodeFacts* out, bool* refreshed);
  void finish(const Completion& done, QueryOutcome outcome, aclk::CmdResult result,
              const std::string& logLine);
  void forward(const aclk::CloudHttpRequest& request, const NodeFacts& node,
               const AgentTarget& target, const std::string& url, Completion done);
  void warnRateLimited(const std::string& key, const std::string& text);
  // False when the node's stream cannot carry the ask: the HTTP way is tried.
  bool function(const aclk::CloudHttpRequest& request, const NodeFacts& node,
                const FunctionAsk& ask, Completion& done);
  void finishCall(const Completion& done, CallOutcome outcome, aclk::CmdResult result,
                  const std::string& logLine);

  const ProxyOptions options_;
  const LocalApi local_;
  const NodeSource nodeSource_;
  QueryStats stats_;
  FunctionStats functionStats_;
  std::shared_ptr<FunctionClient> functions_;

  std::mutex mutex_;  // guards the members below
  std::vector<NodeFacts> nodes_;
  std::chrono::steady_clock::time_point nodesAt_{};
  struct Pending {
    uint64_t id = 0;
    bool function = false;  // a FunctionClient call, else a ForwardClient request
  };
  std::map<std::string, Pending> pending_;  // by msg-id
  std::map<std::string, std::chrono::steady_clock::time_point> warned_;
  // Last: destroyed first, while the members its final (cancelled) completions use still exist.
  const std::shared_ptr<ForwardClient> client_;
};

}  // namespace aclkd::query
