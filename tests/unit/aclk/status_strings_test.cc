#include "aclk/status_strings.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace aclkd::aclk {
namespace {

constexpr int kLast = static_cast<int>(AclkStatus::kOfflineMessageTooBig);

TEST(StatusTest, EveryStringIsDistinctAndHttpFailuresMap) {
  std::set<std::string_view> seen;
  for (int i = 0; i <= kLast; ++i) {
    const auto s = statusString(static_cast<AclkStatus>(i));
    EXPECT_FALSE(s.empty()) << i;
    // The table of docs/protocol/aclk.md §11.1 has "unknown error" twice (socket and HTTPS client);
    // nothing else repeats.
    EXPECT_TRUE(seen.insert(s).second || s == "unknown error") << "duplicate status string " << s;
  }
  EXPECT_EQ(statusString(AclkStatus::kOfflinePingTimeout), "disconnected, ping timed out");
  EXPECT_EQ(statusString(AclkStatus::kConnected), "connected");
  EXPECT_EQ(statusString(statusForHttpFailure(HttpFailure::kTimeout)), "https client timeout");
}

TEST(StatusTest, OnlyTheTwoUnknownErrorsShareAString) {
  std::map<std::string_view, std::vector<int>> byString;
  for (int i = 0; i <= kLast; ++i) byString[statusString(static_cast<AclkStatus>(i))].push_back(i);
  for (const auto& [s, codes] : byString) {
    if (s == "unknown error") {
      EXPECT_EQ(codes, (std::vector<int>{static_cast<int>(AclkStatus::kSocketUnknownError),
                                         static_cast<int>(AclkStatus::kHttpsUnknownError)}));
    } else {
      EXPECT_EQ(codes.size(), 1u) << s;
    }
  }
  // 65 codes, 64 distinct strings.
  EXPECT_EQ(kLast + 1, 65);
  EXPECT_EQ(byString.size(), 64u);
}

// The agent's layout (docs/protocol/aclk.md §11.1): 0 connected, 1–12 socket errors, 13–42
// HTTPS-client results (both groups in the agent's order), then the ACLK-specific codes.
TEST(StatusTest, LayoutAndStringsFollowTheBrief) {
  EXPECT_EQ(static_cast<int>(AclkStatus::kConnected), 0);
  EXPECT_EQ(static_cast<int>(AclkStatus::kSocketUnknownError), 12);
  EXPECT_EQ(static_cast<int>(AclkStatus::kOtpChallengeDecryptFailed), 42);
  EXPECT_EQ(static_cast<int>(AclkStatus::kOffline), 43);
  const std::vector<std::string_view> socketAndHttps = {
      "connection refused", "cannot resolve hostname", "cannot create socket",
      "no host in definition", "socket poll() error", "timeout",
      "cannot establish SSL connection", "invalid SSL certification", "failed to open SSL",
      "thread cancelled", "no destination available", "unknown error", "unknown error",
      "not enough memory", "cannot set socket to non-blocking mode", "proxy negotiation failed",
      "cannot create SSL ctx", "cannot set SSL verify paths", "cannot create SSL",
      "cannot set TLS SNI", "cannot set TLS hostname/IP verification", "SSL_connect() failed",
      "cannot start SSL connection", "TLS certificate verification failed",
      "unknown https client request type", "https client failed to write http header",
      "https client failed to write http payload", "https client poll() error",
      "https client timeout", "https client read error",
      "https client parsing of response failed", "agent is not claimed (during /env)",
      "/env response code is not 200", "/env response is empty", "/env response is not JSON",
      "otp challenge response is not http/200", "otp challenge response is invalid",
      "otp password response is not http/201", "otp password response is empty",
      "otp password response is not JSON", "agent is not claimed (during otp)",
      "otp challenge decryption failed"};
  ASSERT_EQ(socketAndHttps.size(), 42u);
  for (size_t i = 0; i < socketAndHttps.size(); ++i) {
    EXPECT_EQ(statusString(static_cast<AclkStatus>(i + 1)), socketAndHttps[i]) << i + 1;
  }
  const std::vector<std::pair<AclkStatus, std::string_view>> aclk = {
      {AclkStatus::kOffline, "offline"},
      {AclkStatus::kDisabled, "disabled"},
      {AclkStatus::kNoCloudUrl, "configuration error, no cloud url"},
      {AclkStatus::kInvalidCloudUrl, "configuration error, invalid cloud url"},
      {AclkStatus::kBlocked, "agent is blocked"},
      {AclkStatus::kNoOldProtocol, "can't connect, old protocol not supported"},
      {AclkStatus::kNoProtocolCapability, "can't connect, protocol capability not supported"},
      {AclkStatus::kInvalidEnvAuthUrl, "can't connect, invalid /env auth url"},
      {AclkStatus::kInvalidEnvTransportIdx, "can't connect, invalid /env transport idx"},
      {AclkStatus::kInvalidEnvTransportUrl, "can't connect, invalid /env transport URL"},
      {AclkStatus::kNoLwtTopic, "can't connect, no LWT topic"},
      {AclkStatus::kOfflineCloudRequestedDisconnect, "disconnected, due to remote request"},
      {AclkStatus::kOfflinePingTimeout, "disconnected, ping timed out"},
      {AclkStatus::kOfflineReloadingConfig, "disconnected, to reload config"},
      {AclkStatus::kOfflinePollError, "disconnected, poll() failed"},
      {AclkStatus::kOfflineNoIoProgress, "disconnected, no I/O progress on a ready socket"},
      {AclkStatus::kOfflineConnectTimeout, "disconnected, timed out waiting for CONNACK"},
      {AclkStatus::kOfflineClosedByRemote, "disconnected, closed by remote end"},
      {AclkStatus::kOfflineSocketError, "disconnected, socket error"},
      {AclkStatus::kOfflineMqttProtocolError, "disconnected, MQTT protocol error"},
      {AclkStatus::kOfflineWsProtocolError, "disconnected, WebSockets protocol error"},
      {AclkStatus::kOfflineMessageTooBig, "disconnected, message too big"},
  };
  ASSERT_EQ(aclk.size(), static_cast<size_t>(kLast - 43 + 1));
  for (const auto& [status, text] : aclk) EXPECT_EQ(statusString(status), text);
}

TEST(StatusTest, StatusForEveryHttpFailure) {
  const std::vector<std::pair<HttpFailure, AclkStatus>> cases = {
      {HttpFailure::kResolve, AclkStatus::kCannotResolveHostname},
      {HttpFailure::kConnect, AclkStatus::kConnectionRefused},
      {HttpFailure::kTimeout, AclkStatus::kHttpsTimeout},
      {HttpFailure::kTlsVerify, AclkStatus::kHttpsTlsVerificationFailed},
      {HttpFailure::kTls, AclkStatus::kHttpsSslConnectFailed},
      {HttpFailure::kProxyConnect, AclkStatus::kHttpsProxyNegotiationFailed},
      {HttpFailure::kProxyAuth, AclkStatus::kHttpsProxyNegotiationFailed},
      {HttpFailure::kProxyTunnel, AclkStatus::kHttpsProxyNegotiationFailed},
      {HttpFailure::kTooLarge, AclkStatus::kHttpsReadError},
      {HttpFailure::kCancelled, AclkStatus::kHttpsUnknownError},
      {HttpFailure::kOther, AclkStatus::kHttpsUnknownError},
      {HttpFailure::kNone, AclkStatus::kHttpsUnknownError},
  };
  for (const auto& [failure, status] : cases) {
    EXPECT_EQ(statusForHttpFailure(failure), status) << static_cast<int>(failure);
    EXPECT_NE(statusForHttpFailure(failure), AclkStatus::kConnected);
  }
  EXPECT_EQ(statusString(statusForHttpFailure(HttpFailure::kResolve)), "cannot resolve hostname");
  EXPECT_EQ(statusString(statusForHttpFailure(HttpFailure::kProxyAuth)),
            "proxy negotiation failed");
}

}  // namespace
}  // namespace aclkd::aclk
