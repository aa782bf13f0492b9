#include "claim/claimer.h"

#include <spdlog/spdlog.h>

#include "claim/claim_store.h"
#include "common/http_client.h"
#include "common/url.h"
#include "common/uuid.h"

namespace aclkd::claim {

ClaimOutcome claimOnce(const ClaimInputs& inputs, const ClaimEnvironment& env,
                       const ClaimStore& store) {
  ClaimOutcome outcome;
  std::string urlError;
  if (!parseUrl(inputs.url, &urlError)) {
    outcome.reason = "Failed: the cloud URL is invalid: " + urlError;
    return outcome;
  }
  const std::string proxyText = env.proxyOverride.empty() ? inputs.proxy : env.proxyOverride;
  std::string proxyError;
  const auto proxyValue = parseProxyValue(proxyText.empty() ? "env" : proxyText, &proxyError);
  if (!proxyValue) {
    outcome.reason = "Failed: proxy setting is invalid: " + proxyError;
    return outcome;
  }
  bool generated = false;
  const RsaKey key = store.keyForClaim(&generated);
  if (generated) {
    spdlog::info("CLAIM: generated a new RSA-{} key pair", key.bits());
  }
  Identity identity;
  identity.claimedId = newUuid();
  identity.privatePem = key.privatePem();
  identity.publicPem = key.publicPem();
  identity.url = inputs.url;
  identity.proxy = proxyText.empty() ? "env" : proxyText;
  identity.token = inputs.token;
  identity.rooms = inputs.rooms;
  identity.insecure = inputs.insecure || env.insecureOverride;
  identity.machineGuid = env.machineGuid;
  identity.hostname = env.hostname;

  HttpClientRequest request;
  request.method = "PUT";
  request.url = claimUrl(inputs.url, identity.claimedId);
  request.headers = {"Content-Type: application/json"};
  request.body = buildClaimBody(identity.claimedId, env.hostname, inputs.token, inputs.rooms,
                                identity.publicPem, env.machineGuid);
  request.caFile = env.caFile.empty() ? store.trustedCaFile() : env.caFile;
  request.insecure = identity.insecure;
  switch (proxyValue->mode) {
    case ProxyValue::Mode::kNone: request.proxyMode = HttpClientRequest::ProxyMode::kNone; break;
    case ProxyValue::Mode::kEnv: request.proxyMode = HttpClientRequest::ProxyMode::kEnv; break;
    case ProxyValue::Mode::kExplicit:
      request.proxyMode = HttpClientRequest::ProxyMode::kExplicit;
      request.proxy = proxyValue->explicitProxy;
      request.proxy.source = env.proxyOverride.empty() ? inputs.source : env.proxySource;
      break;
  }
  spdlog::info("CLAIM: claiming with inputs from {} to {} (proxy: {})", inputs.source,
               request.url, request.proxyMode == HttpClientRequest::ProxyMode::kExplicit
                                ? request.proxy.display()
                                : identity.proxy);
  outcome = interpretClaimResponse(httpPerform(request));
  if (!outcome.ok) {
    return outcome;
  }
  if (std::string error; !store.commit(identity, &error)) {
    outcome.ok = false;
    outcome.reason = "Failed: cannot save the claim: " + error;
    return outcome;
  }
  spdlog::info("CLAIM: agent claimed with claimed_id {}", identity.claimedId);
  return outcome;
}

}  // namespace aclkd::claim
