// The Gateway's threads meet here: control clients ask for the state while the main thread starts
// the bridge and reloads the configuration. These tests are the regression tests of the races a
// ThreadSanitizer build found (docs/threads.md): under `scripts/test --sanitize=thread` they
// reported a data race before the fixes; in every build they check what the answers say.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <thread>

#include "daemon/daemon_config.h"
#include "daemon/gateway.h"
#include "unit/test_util.h"

namespace aclkd::daemon {
namespace {

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::writeText(dir_.file("aclkd.conf"),
                    "[global]\n    state dir = " + dir_.path() + "\n    run dir = " +
                        dir_.path() + "\n    log level = info\n" +
                        "[cloud]\n    enabled = no\n" + "[web]\n    bind to = 127.0.0.1:0\n");
    test::writeText(dir_.file("stream.conf"),
                    "[11111111-2222-3333-4444-555555555555]\n    enabled = yes\n");
  }

  std::unique_ptr<Gateway> makeGateway() {
    ConfigDiagnostics diag;
    DaemonConfig config = loadDaemonConfig(dir_.path(), diag);
    EXPECT_TRUE(diag.errors.empty()) << diag.errors.front();
    return std::make_unique<Gateway>(std::move(config), "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                                     "gateway-test");
  }

  // Runs `ask` on another thread, as the control socket's client threads do, until stopped.
  struct Asker {
    std::atomic<bool> stop{false};
    std::atomic<int> answers{0};
    std::thread thread;
    Asker(Gateway& g, std::string request) {
      thread = std::thread([this, &g, request] {
        while (!stop.load()) {
          const auto reply = nlohmann::json::parse(g.handleControl(request));
          if (reply.value("code", -1) == 0) answers.fetch_add(1);
        }
      });
    }
    ~Asker() {
      stop.store(true);
      thread.join();
    }
  };

  test::TempDir dir_;
};

TEST_F(GatewayTest, StateAnswersWhileTheBridgeStarts) {
  auto gateway = makeGateway();
  {
    Asker state(*gateway, R"({"command":"aclk-state"})");
    Asker streams(*gateway, R"({"command":"streams"})");
    while (state.answers.load() == 0 || streams.answers.load() == 0) std::this_thread::yield();
    std::string error;
    ASSERT_TRUE(gateway->startBridge(&error)) << error;
    const int before = state.answers.load();
    while (state.answers.load() < before + 5) std::this_thread::yield();
  }
  const auto view = gateway->stateView();
  EXPECT_FALSE(view.online);
  gateway->stop();
}

TEST_F(GatewayTest, ReloadWhileClientsReadTheConfiguration) {
  auto gateway = makeGateway();
  std::string error;
  ASSERT_TRUE(gateway->startBridge(&error)) << error;
  Asker nodes(*gateway, R"({"command":"nodes"})");
  Asker state(*gateway, R"({"command":"aclk-state"})");
  // The log level applies at once; a restart-only option is reported as such at every reload
  // until the restart, because it is compared with the value the gateway started with.
  test::writeText(dir_.file("aclkd.conf"),
                  "[global]\n    state dir = " + dir_.path() + "\n    run dir = " + dir_.path() +
                      "\n    log level = debug\n" + "[cloud]\n    enabled = no\n" +
                      "[web]\n    bind to = 127.0.0.1:0\n" +
                      "[stream]\n    cleanup ephemeral nodes after seconds = 60\n");
  for (int i = 0; i < 3; ++i) {
    const auto reply = nlohmann::json::parse(gateway->handleControl(R"({"command":"reload"})"));
    const std::string text = reply.value("text", "");
    if (i == 0) {
      EXPECT_NE(text.find("applied [global] log level"), std::string::npos) << text;
    } else {
      EXPECT_EQ(text.find("log level"), std::string::npos) << text;
    }
    EXPECT_NE(text.find("needs a restart: [stream] cleanup ephemeral nodes after seconds"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("stream.conf (1 sections)"), std::string::npos) << text;
  }
  spdlog::set_level(spdlog::level::info);
  gateway->stop();
}

}  // namespace
}  // namespace aclkd::daemon
