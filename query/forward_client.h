#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace aclkd::query {

using Clock = std::chrono::steady_clock;

// One HTTP request to an agent.
struct ForwardRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::string caFile;  // https: empty uses the system trust store
  bool insecure = false;
  std::string agentKey;  // requests with the same key share the per-agent concurrency limit
  Clock::time_point deadline;
  size_t maxResponseBytes = 16u << 20;
  // false: the agent's address is not kept in libcurl's DNS cache. For periodic requests to many
  // agents (the alert relay): libcurl walks its whole cache, an entry per host and port, on every
  // request (docs/benchmarks.md, alert relay).
  bool cacheDns = true;
};

enum class ForwardOutcome {
  kAnswered,     // the agent answered (any HTTP status)
  kTimeout,      // the deadline passed, waiting for a slot or for the answer
  kTooLarge,     // the answer's body is over maxResponseBytes
  kUnreachable,  // no HTTP answer: refused, reset, bad TLS, connect timeout…
  kCancelled,    // cancel() or shutdown
  kOverloaded,   // too many requests waiting: refused at once
};

struct ForwardResponse {
  ForwardOutcome outcome = ForwardOutcome::kUnreachable;
  long status = 0;
  std::string reason;  // the agent's reason phrase
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string error;  // why there is no answer, for logs and error bodies
};

// The HTTP side of the query proxy: asynchronous, bounded. `submit` returns at once; the
// completion runs exactly once, on the client's own thread (never inside submit or cancel), and
// must only hand the result over.
class ForwardClient {
 public:
  using Completion = std::function<void(ForwardResponse)>;
  virtual ~ForwardClient() = default;
  // Returns an id for cancel().
  virtual uint64_t submit(ForwardRequest request, Completion done) = 0;
  // The request completes as kCancelled (unless it already completed).
  virtual void cancel(uint64_t id) = 0;
};

}  // namespace aclkd::query
