#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace aclkd::claim {

// The gateway's RSA identity key. OpenSSL 3 EVP calls only (the build forbids deprecated ones).
class RsaKey {
 public:
  // A fresh 2048-bit key, public exponent 65537, as Netdata's agent makes.
  static RsaKey generate();
  // Reads a private key in PKCS#8 (`BEGIN PRIVATE KEY`) or traditional (`BEGIN RSA PRIVATE KEY`)
  // PEM. nullopt with `error` set when the text is not an RSA private key.
  static std::optional<RsaKey> fromPrivatePem(std::string_view pem, std::string* error);

  std::string privatePem() const;  // PKCS#8
  std::string publicPem() const;   // SubjectPublicKeyInfo
  int bits() const;

  // RSA-OAEP with SHA-1 and MGF1-SHA-1: how the cloud encrypts the OTP challenge.
  std::optional<std::string> decryptOaepSha1(std::string_view cipher, std::string* error) const;
  // The cloud side of the same (used by the test cloud).
  static std::optional<std::string> encryptOaepSha1ForPublicPem(std::string_view publicPem,
                                                               std::string_view plain,
                                                               std::string* error);

 private:
  explicit RsaKey(EVP_PKEY* key);
  struct Free {
    void operator()(EVP_PKEY* key) const;
  };
  std::shared_ptr<EVP_PKEY> key_;
};

std::string lastOpenSslError();

}  // namespace aclkd::claim
