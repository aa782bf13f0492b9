#include "aclk/status_strings.h"

namespace aclkd::aclk {

std::string_view statusString(AclkStatus status) {
  switch (status) {
    case AclkStatus::kConnected: return "connected";
    case AclkStatus::kConnectionRefused: return "connection refused";
    case AclkStatus::kCannotResolveHostname: return "cannot resolve hostname";
    case AclkStatus::kCannotCreateSocket: return "cannot create socket";
    case AclkStatus::kNoHostInDefinition: return "no host in definition";
    case AclkStatus::kSocketPollError: return "socket poll() error";
    case AclkStatus::kTimeout: return "timeout";
    case AclkStatus::kCannotEstablishSsl: return "cannot establish SSL connection";
    case AclkStatus::kInvalidSslCertification: return "invalid SSL certification";
    case AclkStatus::kFailedToOpenSsl: return "failed to open SSL";
    case AclkStatus::kThreadCancelled: return "thread cancelled";
    case AclkStatus::kNoDestinationAvailable: return "no destination available";
    case AclkStatus::kSocketUnknownError: return "unknown error";
    case AclkStatus::kHttpsUnknownError: return "unknown error";
    case AclkStatus::kHttpsNotEnoughMemory: return "not enough memory";
    case AclkStatus::kHttpsCannotSetNonBlocking: return "cannot set socket to non-blocking mode";
    case AclkStatus::kHttpsProxyNegotiationFailed: return "proxy negotiation failed";
    case AclkStatus::kHttpsCannotCreateSslCtx: return "cannot create SSL ctx";
    case AclkStatus::kHttpsCannotSetSslVerifyPaths: return "cannot set SSL verify paths";
    case AclkStatus::kHttpsCannotCreateSsl: return "cannot create SSL";
    case AclkStatus::kHttpsCannotSetSni: return "cannot set TLS SNI";
    case AclkStatus::kHttpsCannotSetHostVerification:
      return "cannot set TLS hostname/IP verification";
    case AclkStatus::kHttpsSslConnectFailed: return "SSL_connect() failed";
    case AclkStatus::kHttpsCannotStartSsl: return "cannot start SSL connection";
    case AclkStatus::kHttpsTlsVerificationFailed: return "TLS certificate verification failed";
    case AclkStatus::kHttpsUnknownRequestType: return "unknown https client request type";
    case AclkStatus::kHttpsFailedToWriteHeader: return "https client failed to write http header";
    case AclkStatus::kHttpsFailedToWritePayload:
      return "https client failed to write http payload";
    case AclkStatus::kHttpsPollError: return "https client poll() error";
    case AclkStatus::kHttpsTimeout: return "https client timeout";
    case AclkStatus::kHttpsReadError: return "https client read error";
    case AclkStatus::kHttpsParseFailed: return "https client parsing of response failed";
    case AclkStatus::kEnvNotClaimed: return "agent is not claimed (during /env)";
    case AclkStatus::kEnvNot200: return "/env response code is not 200";
    case AclkStatus::kEnvEmpty: return "/env response is empty";
    case AclkStatus::kEnvNotJson: return "/env response is not JSON";
    case AclkStatus::kOtpChallengeNot200: return "otp challenge response is not http/200";
    case AclkStatus::kOtpChallengeInvalid: return "otp challenge response is invalid";
    case AclkStatus::kOtpPasswordNot201: return "otp password response is not http/201";
    case AclkStatus::kOtpPasswordEmpty: return "otp password response is empty";
    case AclkStatus::kOtpPasswordNotJson: return "otp password response is not JSON";
    case AclkStatus::kOtpNotClaimed: return "agent is not claimed (during otp)";
    case AclkStatus::kOtpChallengeDecryptFailed: return "otp challenge decryption failed";
    case AclkStatus::kOffline: return "offline";
    case AclkStatus::kDisabled: return "disabled";
    case AclkStatus::kNoCloudUrl: return "configuration error, no cloud url";
    case AclkStatus::kInvalidCloudUrl: return "configuration error, invalid cloud url";
    case AclkStatus::kBlocked: return "agent is blocked";
    case AclkStatus::kNoOldProtocol: return "can't connect, old protocol not supported";
    case AclkStatus::kNoProtocolCapability:
      return "can't connect, protocol capability not supported";
    case AclkStatus::kInvalidEnvAuthUrl: return "can't connect, invalid /env auth url";
    case AclkStatus::kInvalidEnvTransportIdx: return "can't connect, invalid /env transport idx";
    case AclkStatus::kInvalidEnvTransportUrl: return "can't connect, invalid /env transport URL";
    case AclkStatus::kNoLwtTopic: return "can't connect, no LWT topic";
    case AclkStatus::kOfflineCloudRequestedDisconnect: return "disconnected, due to remote request";
    case AclkStatus::kOfflinePingTimeout: return "disconnected, ping timed out";
    case AclkStatus::kOfflineReloadingConfig: return "disconnected, to reload config";
    case AclkStatus::kOfflinePollError: return "disconnected, poll() failed";
    case AclkStatus::kOfflineNoIoProgress: return "disconnected, no I/O progress on a ready socket";
    case AclkStatus::kOfflineConnectTimeout: return "disconnected, timed out waiting for CONNACK";
    case AclkStatus::kOfflineClosedByRemote: return "disconnected, closed by remote end";
    case AclkStatus::kOfflineSocketError: return "disconnected, socket error";
    case AclkStatus::kOfflineMqttProtocolError: return "disconnected, MQTT protocol error";
    case AclkStatus::kOfflineWsProtocolError: return "disconnected, WebSockets protocol error";
    case AclkStatus::kOfflineMessageTooBig: return "disconnected, message too big";
  }
  return "unknown error";
}

AclkStatus statusForHttpFailure(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::kResolve: return AclkStatus::kCannotResolveHostname;
    case HttpFailure::kConnect: return AclkStatus::kConnectionRefused;
    case HttpFailure::kTimeout: return AclkStatus::kHttpsTimeout;
    case HttpFailure::kTlsVerify: return AclkStatus::kHttpsTlsVerificationFailed;
    case HttpFailure::kTls: return AclkStatus::kHttpsSslConnectFailed;
    case HttpFailure::kProxyConnect:
    case HttpFailure::kProxyAuth:
    case HttpFailure::kProxyTunnel: return AclkStatus::kHttpsProxyNegotiationFailed;
    case HttpFailure::kTooLarge: return AclkStatus::kHttpsReadError;
    default: return AclkStatus::kHttpsUnknownError;
  }
}

}  // namespace aclkd::aclk
