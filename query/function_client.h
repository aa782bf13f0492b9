#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "stream_bridge/function_calls.h"

namespace aclkd::query {

// The stream side of the query proxy: a relayed node's functions are called down the stream its
// host holds, not over HTTP (the child's own API may be off, and a call from the gateway would
// not carry the cloud user's access). The daemon implements it over the stream bridge; the call
// types are the bridge's (stream_bridge/function_calls.h: plain data, no socket), so the two do
// not each keep a copy of them.
class FunctionClient {
 public:
  virtual ~FunctionClient() = default;
  // `done` runs exactly once, on another thread or at once; it must only hand the result over.
  virtual uint64_t call(const std::string& machineGuid, stream_bridge::FunctionCallRequest request,
                        stream_bridge::FunctionDone done) = 0;
  virtual void cancel(uint64_t id) = 0;
  // The node's functions list as its agent answers `/api/v1/functions` (apiVersion 1) or
  // `/api/v2|v3/functions`; nullopt when no live stream holds the node.
  virtual std::optional<std::string> list(const std::string& machineGuid, int apiVersion) = 0;
  // The timeout the node declared for the function a command calls (its first word).
  virtual std::optional<int> declaredTimeout(const std::string& machineGuid,
                                             const std::string& command) = 0;
};

}  // namespace aclkd::query
