#pragma once

#include <string_view>

#include "common/http_client.h"

namespace aclkd::aclk {

// The ACLK status codes of docs/protocol/aclk.md §11.1. Only the strings are visible (log line and
// cloud.reason), and Netdata Cloud may match on them, so they are kept byte-identical to the
// agent's.
enum class AclkStatus {
  kConnected,
  // socket errors of an HTTPS request's TCP connect
  kConnectionRefused,
  kCannotResolveHostname,
  kCannotCreateSocket,
  kNoHostInDefinition,
  kSocketPollError,
  kTimeout,
  kCannotEstablishSsl,
  kInvalidSslCertification,
  kFailedToOpenSsl,
  kThreadCancelled,
  kNoDestinationAvailable,
  kSocketUnknownError,
  // HTTPS client results, in the agent's order of definition
  kHttpsUnknownError,
  kHttpsNotEnoughMemory,
  kHttpsCannotSetNonBlocking,
  kHttpsProxyNegotiationFailed,
  kHttpsCannotCreateSslCtx,
  kHttpsCannotSetSslVerifyPaths,
  kHttpsCannotCreateSsl,
  kHttpsCannotSetSni,
  kHttpsCannotSetHostVerification,
  kHttpsSslConnectFailed,
  kHttpsCannotStartSsl,
  kHttpsTlsVerificationFailed,
  kHttpsUnknownRequestType,
  kHttpsFailedToWriteHeader,
  kHttpsFailedToWritePayload,
  kHttpsPollError,
  kHttpsTimeout,
  kHttpsReadError,
  kHttpsParseFailed,
  kEnvNotClaimed,
  kEnvNot200,
  kEnvEmpty,
  kEnvNotJson,
  kOtpChallengeNot200,
  kOtpChallengeInvalid,
  kOtpPasswordNot201,
  kOtpPasswordEmpty,
  kOtpPasswordNotJson,
  kOtpNotClaimed,
  kOtpChallengeDecryptFailed,
  // ACLK-specific codes
  kOffline,
  kDisabled,
  kNoCloudUrl,
  kInvalidCloudUrl,
  kBlocked,
  kNoOldProtocol,
  kNoProtocolCapability,
  kInvalidEnvAuthUrl,
  kInvalidEnvTransportIdx,
  kInvalidEnvTransportUrl,
  kNoLwtTopic,
  kOfflineCloudRequestedDisconnect,
  kOfflinePingTimeout,
  kOfflineReloadingConfig,
  kOfflinePollError,
  kOfflineNoIoProgress,
  kOfflineConnectTimeout,
  kOfflineClosedByRemote,
  kOfflineSocketError,
  kOfflineMqttProtocolError,
  kOfflineWsProtocolError,
  kOfflineMessageTooBig,
};

// The exact string of §11.1.
std::string_view statusString(AclkStatus status);

// The status an HTTPS step reports when libcurl produced no HTTP answer (the step's own
// "not 200"/"empty"/"not JSON" strings apply only once there is an answer).
AclkStatus statusForHttpFailure(HttpFailure failure);

}  // namespace aclkd::aclk
