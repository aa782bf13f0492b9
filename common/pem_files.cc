#include "common/pem_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace aclkd {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File openForReading(const std::string& path, std::string* error) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) *error = "cannot read '" + path + "': " + std::strerror(errno);
  return f;
}

// Refuses a passphrase prompt: the daemon has no terminal.
int noPassword(char*, int, int, void*) { return -1; }

std::unique_ptr<X509, decltype(&X509_free)> firstCertificate(const std::string& path,
                                                              std::string* error) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(nullptr, X509_free);
  auto f = openForReading(path, error);
  if (!f) return cert;
  cert.reset(PEM_read_X509(f.get(), nullptr, noPassword, nullptr));
  ERR_clear_error();
  if (!cert) *error = "'" + path + "' holds no PEM certificate";
  return cert;
}

std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> privateKey(const std::string& path,
                                                                std::string* error) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(nullptr, EVP_PKEY_free);
  auto f = openForReading(path, error);
  if (!f) return key;
  key.reset(PEM_read_PrivateKey(f.get(), nullptr, noPassword, nullptr));
  ERR_clear_error();
  if (!key) *error = "'" + path + "' holds no unencrypted PEM private key";
  return key;
}

}  // namespace

std::string checkCertificateFile(const std::string& path) {
  std::string error;
  firstCertificate(path, &error);
  return error;
}

std::string checkPrivateKeyFile(const std::string& path) {
  std::string error;
  privateKey(path, &error);
  return error;
}

std::string checkKeyMatchesCertificate(const std::string& certPath, const std::string& keyPath) {
  std::string error;
  const auto cert = firstCertificate(certPath, &error);
  if (!cert) return error;
  const auto key = privateKey(keyPath, &error);
  if (!key) return error;
  const int ok = X509_check_private_key(cert.get(), key.get());
  ERR_clear_error();
  if (ok != 1) return "the key in '" + keyPath + "' does not match the certificate in '" +
                      certPath + "'";
  return "";
}

}  // namespace aclkd
