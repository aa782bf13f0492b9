#pragma once

#include <memory>

#include "query/forward_client.h"

namespace aclkd::query {

// ForwardClient on libcurl's multi interface, driven by one thread of its own: every request in
// flight is a transfer of one curl multi handle, so hundreds wait on agents without a thread
// each. Connections to an agent are kept and reused (curl's connection cache).
//
// Bounds: at most `perAgentLimit` transfers per agent key at once; further requests wait in a
// FIFO per agent (their deadline still runs); beyond `maxWaiting` waiting requests in total a new
// one is refused at once (kOverloaded). Environment proxies are ignored: agents are reached
// directly. Response bodies are not decoded (a gzip answer stays gzip) and stop at the cap.
class CurlForwarder : public ForwardClient {
 public:
  struct Options {
    size_t perAgentLimit = 8;
    size_t maxWaiting = 4096;
    long connectTimeoutMs = 5000;
  };
  explicit CurlForwarder(Options options);
  // Every unfinished request completes as kCancelled, then the thread ends.
  ~CurlForwarder() override;
  CurlForwarder(const CurlForwarder&) = delete;
  CurlForwarder& operator=(const CurlForwarder&) = delete;

  uint64_t submit(ForwardRequest request, Completion done) override;
  void cancel(uint64_t id) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aclkd::query
