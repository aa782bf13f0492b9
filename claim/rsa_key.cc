#include "claim/rsa_key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdexcept>

namespace aclkd::claim {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using CtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;

std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

std::string lastOpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

void RsaKey::Free::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

RsaKey::RsaKey(EVP_PKEY* key) : key_(key, Free{}) {}

RsaKey RsaKey::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  if (key == nullptr) {
    throw std::runtime_error("RSA key generation failed: " + lastOpenSslError());
  }
  return RsaKey(key);
}

std::optional<RsaKey> RsaKey::fromPrivatePem(std::string_view pem, std::string* error) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    if (error) {
      *error = "not a PEM private key (" + lastOpenSslError() + ")";
    }
    return std::nullopt;
  }
  RsaKey out(key);
  if (EVP_PKEY_is_a(key, "RSA") != 1) {
    if (error) {
      *error = "the private key is not an RSA key";
    }
    return std::nullopt;
  }
  return out;
}

std::string RsaKey::privatePem() const {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("cannot encode private key: " + lastOpenSslError());
  }
  return bioText(bio.get());
}

std::string RsaKey::publicPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    throw std::runtime_error("cannot encode public key: " + lastOpenSslError());
  }
  return bioText(bio.get());
}

int RsaKey::bits() const { return EVP_PKEY_get_bits(key_.get()); }

std::optional<std::string> RsaKey::decryptOaepSha1(std::string_view cipher,
                                                   std::string* error) const {
  CtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr), EVP_PKEY_CTX_free);
  size_t outLen = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(cipher.data());
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha1()) != 1 ||
      EVP_PKEY_decrypt(ctx.get(), nullptr, &outLen, in, cipher.size()) != 1) {
    if (error) {
      *error = lastOpenSslError();
    }
    return std::nullopt;
  }
  std::string out(outLen, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &outLen, in,
                       cipher.size()) != 1) {
    if (error) {
      *error = lastOpenSslError();
    }
    return std::nullopt;
  }
  out.resize(outLen);
  return out;
}

std::optional<std::string> RsaKey::encryptOaepSha1ForPublicPem(std::string_view publicPem,
                                                              std::string_view plain,
                                                              std::string* error) {
  BioPtr bio(BIO_new_mem_buf(publicPem.data(), static_cast<int>(publicPem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) {
    if (error) {
      *error = "not a PEM public key (" + lastOpenSslError() + ")";
    }
    return std::nullopt;
  }
  CtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr), EVP_PKEY_CTX_free);
  size_t outLen = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(plain.data());
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha1()) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &outLen, in, plain.size()) != 1) {
    if (error) {
      *error = lastOpenSslError();
    }
    return std::nullopt;
  }
  std::string out(outLen, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &outLen, in,
                       plain.size()) != 1) {
    if (error) {
      *error = lastOpenSslError();
    }
    return std::nullopt;
  }
  out.resize(outLen);
  return out;
}

}  // namespace aclkd::claim
