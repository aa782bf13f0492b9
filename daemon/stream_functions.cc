#include "daemon/stream_functions.h"

#include <ctime>

#include "stream_bridge/function_table.h"

namespace aclkd::daemon {

void StreamFunctions::attach(stream_bridge::StreamServer* server) {
  std::lock_guard lock(mutex_);
  server_ = server;
}

uint64_t StreamFunctions::call(const std::string& machineGuid,
                               stream_bridge::FunctionCallRequest request,
                               stream_bridge::FunctionDone done) {
  std::unique_lock lock(mutex_);
  if (server_ != nullptr) return server_->callFunction(machineGuid, std::move(request), std::move(done));
  lock.unlock();
  stream_bridge::FunctionCallResult r;
  r.outcome = stream_bridge::FunctionOutcome::kStreamGone;
  r.error = "the stream bridge is not running";
  done(std::move(r));
  return 0;
}

void StreamFunctions::cancel(uint64_t id) {
  std::lock_guard lock(mutex_);
  if (server_ != nullptr) server_->cancelFunction(id);
}

std::optional<std::string> StreamFunctions::list(const std::string& machineGuid, int apiVersion) {
  auto functions = registry_->functionsOf(machineGuid);
  if (!functions) return std::nullopt;
  stream_bridge::FunctionsListHost host;
  host.machineGuid = machineGuid;
  host.hostname = functions->hostname;
  if (nodeIds_) {
    const auto ids = nodeIds_();
    if (const auto it = ids.find(machineGuid); it != ids.end()) host.nodeId = it->second;
  }
  return stream_bridge::renderFunctionsList(functions->table, host, apiVersion,
                                            static_cast<int64_t>(std::time(nullptr)));
}

std::optional<int> StreamFunctions::declaredTimeout(const std::string& machineGuid,
                                                    const std::string& command) {
  const auto functions = registry_->functionsOf(machineGuid);
  if (!functions) return std::nullopt;
  const auto* f = functions->table.find(stream_bridge::functionNameOf(command));
  if (f == nullptr) return std::nullopt;
  return f->timeoutSeconds;
}

std::string functionsRefusal(bool functionsEnabled, bool allowFunctions) {
  if (!functionsEnabled) return "the gateway's [cloud] functions = no";
  if (!allowFunctions) return "stream.conf allow functions = no for the node";
  return "";
}

}  // namespace aclkd::daemon
