#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aclkd::testcloud {

// What the cloud needs to know about a claimed agent's key.
struct PublicKeyInfo {
  int bits = 0;
  // DER SubjectPublicKeyInfo: two PEM texts of one key differ in line breaks and trailing
  // whitespace, their DER does not, so "same key" is decided on this.
  std::string der;
};

// Parses a PEM `BEGIN PUBLIC KEY` block holding an RSA key. nullopt with `error` set when the
// text is not PEM, not a public key, or not RSA. The size is not checked here.
std::optional<PublicKeyInfo> parseRsaPublicKey(std::string_view pem, std::string* error);

}  // namespace aclkd::testcloud
