// aclk-testcloud: an on-prem stand-in for Netdata Cloud, for the run script and the integration
// tests: claim (claim_endpoint.h), env and OTP (agent_auth.h), the cloud's MQTT side
// (mqtt_cloud.h) and the tests' control surface (control_api.h).
#include <CLI/CLI.hpp>
#include <atomic>
#include <memory>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/log.h"
#include "common/version.h"
#include "testcloud/agent_auth.h"
#include "testcloud/api_router.h"
#include "testcloud/claim_endpoint.h"
#include "testcloud/cloud_state.h"
#include "testcloud/control_api.h"
#include "testcloud/https_server.h"
#include "testcloud/mqtt_cloud.h"

namespace {

std::string joinOrAny(const std::set<std::string>& items) {
  if (items.empty()) {
    return "any";
  }
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aclkd::testcloud;
  CLI::App app{"aclk-testcloud: an on-prem emulation of Netdata Cloud for tests"};
  app.set_version_flag("--version", std::string("aclk-testcloud ") + aclkd::kAclkdVersionNumber);
  ServerOptions server;
  std::vector<std::string> tokens;
  std::vector<std::string> rooms;
  std::string stateFile;
  std::string logLevel = "info";
  LinkPolicy link;
  std::string broker;
  app.add_option("--bind", server.bindAddress, "Address to listen on")->capture_default_str();
  app.add_option("--port", server.port, "Port to listen on")
      ->required()
      ->check(CLI::Range(1, 65535));
  auto* cert = app.add_option("--cert", server.certFile, "TLS certificate (PEM); HTTPS only")
                   ->check(CLI::ExistingFile);
  auto* key = app.add_option("--key", server.keyFile, "TLS private key (PEM)")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  // One value per flag, so a stray word after --token is an error rather than a second token.
  app.add_option("--token", tokens, "A claim token to accept (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--room", rooms, "A room id to accept (repeatable; none: any room)")
      ->allow_extra_args(false);
  app.add_option("--state-file", stateFile, "Keep recorded claims in this JSON file");
  app.add_option("--mqtt-endpoint", link.mqttEndpoint,
                 "The broker's wss URL handed to agents by /api/v1/env "
                 "(e.g. wss://localhost:18843/mqtt)");
  app.add_option("--broker", broker,
                 "The broker's plain MQTT listener for the cloud's own client "
                 "(e.g. tcp://127.0.0.1:18830); none: no MQTT side");
  app.add_option("--backoff-base", link.backoffBase, "backoff.base in /env")
      ->capture_default_str()
      ->check(CLI::Range(1, 10));
  app.add_option("--backoff-min", link.backoffMinSeconds, "backoff.minSeconds in /env")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--backoff-max", link.backoffMaxSeconds, "backoff.maxSeconds in /env")
      ->capture_default_str()
      ->check(CLI::Range(500, 1 << 30));
  app.add_option("--log-level", logLevel, "trace, debug, info, warning, error or critical")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "error", "critical"}));
  CLI11_PARSE(app, argc, argv);

  if (std::string error; !aclkd::setupLogging(logLevel, "", &error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }

  // Blocked before any thread exists so every thread inherits the mask; the signal thread below
  // collects them with sigtimedwait instead of running a handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CloudState state(stateFile);
  if (std::string error; !state.load(&error)) {
    spdlog::critical("{}", error);
    return 1;
  }

  ClaimPolicy policy;
  policy.tokens.insert(tokens.begin(), tokens.end());
  policy.rooms.insert(rooms.begin(), rooms.end());
  if (policy.tokens.empty()) {
    spdlog::warn("no --token given: every claim will be refused with 403");
  }
  // The count only: tokens are secrets and never reach a log.
  spdlog::info("accepting {} token(s); rooms: {}", policy.tokens.size(), joinOrAny(policy.rooms));

  ApiRouter router;
  ClaimEndpoint claims(std::move(policy), state);
  claims.addRoutes(router);
  ControlApi control(state);
  control.addRoutes(router);
  if (link.mqttEndpoint.empty()) {
    spdlog::warn("no --mqtt-endpoint: /api/v1/env will name no reachable broker");
    link.mqttEndpoint = "wss://localhost:443/mqtt";
  }
  link.listenPort = server.port;
  AgentAuth auth(link, state);
  auth.addRoutes(router);
  std::unique_ptr<MqttCloud> mqttCloud;
  if (!broker.empty()) {
    mqttCloud = std::make_unique<MqttCloud>(broker);
    if (std::string error; !mqttCloud->start(&error)) {
      spdlog::critical("{}", error);
      return 1;
    }
    mqttCloud->addRoutes(router);
  }

  HttpsServer http(server, router);
  if (std::string error; !http.start(&error)) {
    spdlog::critical("{}", error);
    return 1;
  }

  std::atomic<bool> done{false};
  std::thread signalThread([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done.load()) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("{} received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        http.stop();
        return;
      }
    }
  });

  // Scripts wait for this exact line on stdout.
  std::printf("aclk-testcloud listening on %s\n", http.url().c_str());
  std::fflush(stdout);
  spdlog::info("listening on {}", http.url());

  http.run();
  done.store(true);
  signalThread.join();
  if (mqttCloud) mqttCloud->stop();
  spdlog::info("stopped");
  return 0;
}
