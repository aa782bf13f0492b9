#include "query/query_proxy.h"

#include <spdlog/spdlog.h>

#include "common/text.h"
#include "query/cloud_path.h"
#include "query/reply_mapping.h"
#include "query/request_parts.h"

namespace aclkd::query {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::steady_clock;

constexpr auto kNodesRefresh = std::chrono::seconds(1);
constexpr auto kWarnEvery = std::chrono::seconds(60);

int64_t nowUs() {
  return duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

QueryProxy::QueryProxy(ProxyOptions options, LocalApi local, NodeSource nodes,
                       std::shared_ptr<ForwardClient> client)
    : options_(std::move(options)), local_(std::move(local)), nodeSource_(std::move(nodes)),
      client_(std::move(client)) {}

// The node named by `key` (node id, machine GUID or hostname), from a list at most a second old,
// or a fresh one when the key is not in it (a node id the cloud has just assigned).
bool QueryProxy::resolve(const std::string& key, NodeFacts* out, bool* refreshed) {
  std::lock_guard lock(mutex_);
  const auto now = steady_clock::now();
  if (!*refreshed && now - nodesAt_ > kNodesRefresh) {
    nodes_ = nodeSource_();
    nodesAt_ = now;
    *refreshed = true;
  }
  const NodeFacts* found = findNode(nodes_, key);
  if (!found && !*refreshed) {
    nodes_ = nodeSource_();
    nodesAt_ = now;
    *refreshed = true;
    found = findNode(nodes_, key);
  }
  if (!found) return false;
  *out = *found;
  return true;
}

void QueryProxy::finish(const Completion& done, QueryOutcome outcome, aclk::CmdResult result,
                        const std::string& logLine) {
  stats_.count(outcome);
  spdlog::debug("QUERY: {} -> {} (http {}{})", logLine, outcomeName(outcome), result.httpCode,
                result.errorCode ? ", error-code " + std::to_string(result.errorCode) : "");
  done(std::move(result));
}

void QueryProxy::start(const aclk::CloudHttpRequest& request, Completion done) {
  const std::string what = request.msgId + " " + request.method + " " + request.path;
  const CloudPathTarget route = routeCloudPath(request.path);
  if (route.kind == CloudPathTarget::Kind::kBadNodeId) {
    return finish(done, QueryOutcome::kBadNodeId, errorResult(400, kErrorBadNodeId), what);
  }
  auto localAnswer = [&](const std::string& path) {
    aclk::LocalHttpResponse answer;
    if (local_) {
      answer = local_(request.method, path);
    } else {
      answer.code = 404;
    }
    aclk::CmdResult r;
    r.httpCode = answer.code;
    r.httpResponse = aclk::formatLocalHttpResponse(answer, nowUs());
    finish(done, QueryOutcome::kLocal, std::move(r), what);
  };
  if (route.kind == CloudPathTarget::Kind::kLocal) return localAnswer(route.rest);

  // The selected nodes.
  bool refreshed = false;
  std::vector<NodeFacts> selected;
  const std::vector<std::string> keys =
      route.kind == CloudPathTarget::Kind::kScope ? route.scopeIds : std::vector{route.selector};
  for (const auto& key : keys) {
    NodeFacts node;
    if (!resolve(key, &node, &refreshed)) {
      return finish(done, QueryOutcome::kUnknownNode, errorResult(404, kErrorNodeNotFound), what);
    }
    selected.push_back(std::move(node));
  }
  size_t selves = 0;
  for (const auto& n : selected) selves += n.self ? 1 : 0;
  if (selves == selected.size()) {
    return localAnswer(route.kind == CloudPathTarget::Kind::kScope ? request.path : route.rest);
  }
  // Relayed nodes from here on. Functions first: they go down the node's stream.
  if (const FunctionAsk ask = parseFunctionAsk(route.rest);
      ask.kind != FunctionAsk::Kind::kNone && route.kind != CloudPathTarget::Kind::kScope &&
      functions_ && function(request, selected.front(), ask, done)) {
    return;
  }
  auto refuse = [&](int code, const std::string& why) {
    finish(done, QueryOutcome::kRefused, gatewayAnswer(code, why), what);
  };
  if (!options_.enabled) {
    return refuse(403, "queries for relayed nodes are off on this gateway ([cloud] query proxy)");
  }
  if (request.method != "GET" && request.method != "POST") {
    return refuse(405, "only GET and POST are forwarded to agents");
  }
  if (!isApiPath(route.rest)) return refuse(403, "only /api/ paths are forwarded to agents");
  if (selves != 0) {
    return refuse(400, "the selected nodes include the gateway itself and relayed nodes; query "
                       "them separately");
  }
  std::optional<AgentTarget> target;
  std::map<std::string, std::string> guidOf;
  for (const auto& n : selected) {
    if (!n.allowQueries) {
      return refuse(403, "queries for node '" + n.hostname + "' are not allowed (stream.conf "
                         "allow queries = no)");
    }
    if (!n.live) {
      return finish(done, QueryOutcome::kOffline,
                    gatewayAnswer(503, "node '" + n.hostname + "' is offline: its stream to the "
                                       "gateway is not connected"),
                    what);
    }
    std::string error;
    auto t = targetFor(n, options_.defaultPort, &error);
    if (!t) {
      warnRateLimited("target " + n.machineGuid, "QUERY: " + error);
      return finish(done, QueryOutcome::kUnreachable, gatewayAnswer(503, error), what);
    }
    if (target && t->rootUrl != target->rootUrl) {
      return refuse(400, "the selected nodes are relayed by different agents; query each agent's "
                         "nodes separately");
    }
    if (!n.nodeId.empty()) guidOf[n.nodeId] = n.machineGuid;
    target = std::move(t);
  }
  const std::string url = route.kind == CloudPathTarget::Kind::kScope
                              ? target->rootUrl + rewriteScopeIds(route.rest, guidOf)
                              : target->baseUrl + route.rest;
  forward(request, selected.front(), *target, url, std::move(done));
}

void QueryProxy::forward(const aclk::CloudHttpRequest& request, const NodeFacts& node,
                         const AgentTarget& target, const std::string& url, Completion done) {
  const auto started = steady_clock::now();
  const auto timeout = request.timeoutMs && *request.timeoutMs > 0
                           ? std::chrono::milliseconds(*request.timeoutMs)
                           : options_.defaultTimeout;
  const auto parts = splitRawRequest(request.rawRequest);
  ForwardRequest fr;
  fr.method = request.method;
  fr.url = url;
  fr.headers = filterHeaders(parts.headers, options_.forwardHeaders);
  fr.body = request.method == "POST" ? parts.body : "";
  fr.caFile = target.caFile;
  fr.insecure = target.insecure;
  fr.agentKey = target.agentKey;
  fr.deadline = started + timeout;
  fr.maxResponseBytes = options_.maxReplyBytes;
  const std::string what = request.msgId + " " + request.method + " " + request.path + " via " +
                           url;
  stats_.inflight(+1);
  std::lock_guard lock(mutex_);  // the completion erases the pending entry: insert first
  const auto id = client_->submit(
      std::move(fr), [this, done = std::move(done), msgId = request.msgId, started, what,
                      agent = target.agentKey, host = node.hostname](ForwardResponse response) {
        stats_.inflight(-1);
        {
          std::lock_guard lock(mutex_);
          pending_.erase(msgId);
        }
        QueryOutcome outcome = QueryOutcome::kAnswered;
        switch (response.outcome) {
          case ForwardOutcome::kAnswered: break;
          case ForwardOutcome::kTimeout: outcome = QueryOutcome::kTimeout; break;
          case ForwardOutcome::kTooLarge: outcome = QueryOutcome::kTooLarge; break;
          case ForwardOutcome::kUnreachable: outcome = QueryOutcome::kUnreachable; break;
          case ForwardOutcome::kCancelled: outcome = QueryOutcome::kCancelled; break;
          case ForwardOutcome::kOverloaded: outcome = QueryOutcome::kOverloaded; break;
        }
        if (outcome != QueryOutcome::kAnswered && outcome != QueryOutcome::kCancelled) {
          warnRateLimited(agent + " " + outcomeName(outcome),
                          "QUERY: a query for node '" + host + "' to agent " + agent + ": " +
                              outcomeName(outcome) + " (" + response.error +
                              "); further ones logged at debug for a minute");
        }
        auto result = mapForwardResponse(response, agent, options_.maxReplyBytes);
        if (outcome == QueryOutcome::kAnswered && result.errorCode == kErrorTooBig) {
          outcome = QueryOutcome::kTooLarge;
        }
        stats_.observe(duration_cast<microseconds>(steady_clock::now() - started));
        finish(done, outcome, std::move(result), what);
      });
  pending_[request.msgId] = Pending{id, false};
}

void QueryProxy::finishCall(const Completion& done, CallOutcome outcome, aclk::CmdResult result,
                            const std::string& logLine) {
  functionStats_.count(outcome);
  spdlog::debug("FUNCTION: {} -> {} (http {}{})", logLine, callOutcomeName(outcome),
                result.httpCode,
                result.errorCode ? ", error-code " + std::to_string(result.errorCode) : "");
  done(std::move(result));
}

bool QueryProxy::function(const aclk::CloudHttpRequest& request, const NodeFacts& node,
                          const FunctionAsk& ask, Completion& done) {
  const std::string what = request.msgId + " " + request.method + " " + request.path;
  if (!node.live) {
    finishCall(done, CallOutcome::kStreamGone,
               gatewayAnswer(503, "node '" + node.hostname + "' is offline: its stream to the "
                                  "gateway is not connected"),
               what);
    return true;
  }
  if (node.functionsForbidden) {
    finishCall(done, CallOutcome::kForbidden,
               gatewayAnswer(403, "functions of node '" + node.hostname + "' are off: " +
                                      node.functionsOff),
               what);
    return true;
  }
  if (!node.functions) return false;  // its stream cannot carry them: the HTTP way
  if (!ask.error.empty()) {
    finishCall(done, CallOutcome::kBadRequest, gatewayAnswer(400, ask.error), what);
    return true;
  }
  if (ask.kind == FunctionAsk::Kind::kList) {
    const auto list = functions_->list(node.machineGuid, ask.listVersion);
    if (!list) {
      finishCall(done, CallOutcome::kStreamGone,
                 gatewayAnswer(503, "node '" + node.hostname + "': its stream just closed"), what);
      return true;
    }
    aclk::LocalHttpResponse answer;
    answer.body = *list;
    aclk::CmdResult r;
    r.httpResponse = aclk::formatLocalHttpResponse(answer, nowUs());
    finishCall(done, CallOutcome::kListed, std::move(r), what);
    return true;
  }
  if (request.method != "GET" && request.method != "POST") {
    finishCall(done, CallOutcome::kBadRequest,
               gatewayAnswer(405, "functions are called with GET or POST"), what);
    return true;
  }
  const auto started = steady_clock::now();
  const auto budget = request.timeoutMs && *request.timeoutMs > 0
                          ? std::chrono::milliseconds(*request.timeoutMs)
                          : options_.defaultTimeout;
  const auto parts = splitRawRequest(request.rawRequest);
  const auto caller = callerIdentity(parts.headers);
  stream_bridge::FunctionCallRequest call;
  call.command = ask.command;
  call.timeoutSeconds = ask.timeoutSeconds.value_or(
      functions_->declaredTimeout(node.machineGuid, ask.command).value_or(10));
  if (request.method == "POST") call.payload = parts.body;
  for (const auto& [name, value] : parts.headers) {
    if (asciiLower(name) == "content-type" && !value.empty()) call.contentType = value;
  }
  call.access = caller.access;
  call.source = caller.source;
  call.deadline = started + budget;
  functionStats_.inflight(+1);
  // Pending before the call (its completion erases the entry, and may run at once, on this
  // thread, when no stream holds the node: no lock is held across the call).
  {
    std::lock_guard lock(mutex_);
    pending_[request.msgId] = Pending{0, true};
  }
  const auto id = functions_->call(
      node.machineGuid, std::move(call),
      [this, done = std::move(done), msgId = request.msgId, started, what,
       host = node.hostname](stream_bridge::FunctionCallResult result) {
        functionStats_.inflight(-1);
        {
          std::lock_guard lock(mutex_);
          pending_.erase(msgId);
        }
        using stream_bridge::FunctionOutcome;
        CallOutcome outcome = CallOutcome::kAnswered;
        switch (result.outcome) {
          case FunctionOutcome::kAnswered: break;
          case FunctionOutcome::kTimeout: outcome = CallOutcome::kTimeout; break;
          case FunctionOutcome::kTooLarge: outcome = CallOutcome::kTooLarge; break;
          case FunctionOutcome::kStreamGone: outcome = CallOutcome::kStreamGone; break;
          case FunctionOutcome::kOverloaded: outcome = CallOutcome::kOverloaded; break;
          case FunctionOutcome::kCancelled: outcome = CallOutcome::kCancelled; break;
          case FunctionOutcome::kRefused: outcome = CallOutcome::kBadRequest; break;
        }
        if (outcome != CallOutcome::kAnswered && outcome != CallOutcome::kCancelled) {
          warnRateLimited(host + " function " + callOutcomeName(outcome),
                          "FUNCTION: a call for node '" + host + "': " +
                              callOutcomeName(outcome) + " (" + result.error +
                              "); further ones logged at debug for a minute");
        }
        const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        auto reply = mapFunctionResult(std::move(result), host, options_.maxReplyBytes, now);
        if (outcome == CallOutcome::kAnswered && reply.errorCode == kErrorTooBig) {
          outcome = CallOutcome::kTooLarge;
        }
        functionStats_.observe(duration_cast<microseconds>(steady_clock::now() - started));
        finishCall(done, outcome, std::move(reply), what);
      });
  std::lock_guard lock(mutex_);
  if (auto it = pending_.find(request.msgId); it != pending_.end() && it->second.function &&
                                               it->second.id == 0) {
    it->second.id = id;
  }
  return true;
}

void QueryProxy::cancel(const std::string& msgId) {
  Pending pending;
  {
    std::lock_guard lock(mutex_);
    const auto it = pending_.find(msgId);
    if (it == pending_.end()) {
      spdlog::debug("QUERY: nothing pending to cancel for {}", msgId);
      return;
    }
    pending = it->second;
  }
  // Outside the lock: a client may complete the request from inside cancel (the completion takes
  // the lock), and StreamFunctions holds its own lock while a call's completion may run.
  if (pending.function) {
    functions_->cancel(pending.id);
  } else {
    client_->cancel(pending.id);
  }
}

void QueryProxy::warnRateLimited(const std::string& key, const std::string& text) {
  const auto now = steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto& last = warned_[key];
    if (last != steady_clock::time_point{} && now - last < kWarnEvery) {
      spdlog::debug("{}", text);
      return;
    }
    last = now;
  }
  spdlog::warn("{}", text);
}

}  // namespace aclkd::query
