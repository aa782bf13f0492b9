#include "testcloud/public_key.h"

#include <memory>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace aclkd::testcloud {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string takeOpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "no PEM public key found";
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace

std::optional<PublicKeyInfo> parseRsaPublicKey(std::string_view pem, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<PublicKeyInfo> {
    if (error) {
      *error = std::move(why);
    }
    return std::nullopt;
  };
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) {
    return fail("out of memory");
  }
  ERR_clear_error();
  KeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) {
    return fail("not a PEM public key (" + takeOpenSslError() + ")");
  }
  if (EVP_PKEY_is_a(key.get(), "RSA") != 1) {
    return fail("not an RSA key");
  }
  PublicKeyInfo info;
  info.bits = EVP_PKEY_get_bits(key.get());
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) {
    return fail("cannot encode the key (" + takeOpenSslError() + ")");
  }
  info.der.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return info;
}

}  // namespace aclkd::testcloud
