#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "query/function_client.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_server.h"

namespace aclkd::daemon {

// The query proxy's FunctionClient over the stream bridge: calls go down the stream that holds
// the node (StreamServer::callFunction), lists come from the registry's declared tables. The
// bridge starts after the proxy exists and stops before it: until `attach` and after `detach`
// every call fails at once (no stream).
class StreamFunctions : public query::FunctionClient {
 public:
  using NodeIds = std::function<std::map<std::string, std::string>()>;  // GUID -> node id
  StreamFunctions(std::shared_ptr<stream_bridge::NodeRegistry> registry, NodeIds nodeIds)
      : registry_(std::move(registry)), nodeIds_(std::move(nodeIds)) {}

  void attach(stream_bridge::StreamServer* server);
  void detach() { attach(nullptr); }

  uint64_t call(const std::string& machineGuid, stream_bridge::FunctionCallRequest request,
                stream_bridge::FunctionDone done) override;
  void cancel(uint64_t id) override;
  std::optional<std::string> list(const std::string& machineGuid, int apiVersion) override;
  std::optional<int> declaredTimeout(const std::string& machineGuid,
                                     const std::string& command) override;

 private:
  const std::shared_ptr<stream_bridge::NodeRegistry> registry_;
  const NodeIds nodeIds_;
  std::mutex mutex_;  // held across a call's hand-over, so detach waits for it
  stream_bridge::StreamServer* server_ = nullptr;
};

// Why the cloud may not call a node's functions by configuration, or "": `[cloud] functions`
// and the node's `allow functions` in stream.conf.
std::string functionsRefusal(bool functionsEnabled, bool allowFunctions);

}  // namespace aclkd::daemon
