#include "common/pem_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/fail_with.h"

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

// The first PEM object `read` finds in `path`, or null with `error` saying what is missing.
template <typename T>
std::unique_ptr<T, void (*)(T*)> readPem(const std::string& path,
                                         T* (*read)(std::FILE*, T**, pem_password_cb*, void*),
                                         void (*release)(T*), const char* what,
                                         std::string* error) {
  std::unique_ptr<T, void (*)(T*)> object(nullptr, release);
  auto f = openForReading(path, error);
  if (!f) return object;
  object.reset(read(f.get(), nullptr, noPassword, nullptr));
  ERR_clear_error();
  if (!object) *error = "'" + path + "' holds no " + what;
  return object;
}

auto firstCertificate(const std::string& path, std::string* error) {
  return readPem<X509>(path, PEM_read_X509, X509_free, "PEM certificate", error);
}

auto privateKey(const std::string& path, std::string* error) {
  return readPem<EVP_PKEY>(path, PEM_read_PrivateKey, EVP_PKEY_free,
                           "unencrypted PEM private key", error);
}

}  // namespace

bool checkCertificateFile(const std::string& path, std::string* error) {
  return firstCertificate(path, error) != nullptr;
}

bool checkPrivateKeyFile(const std::string& path, std::string* error) {
  return privateKey(path, error) != nullptr;
}

bool checkKeyMatchesCertificate(const std::string& certPath, const std::string& keyPath,
                                std::string* error) {
  const auto cert = firstCertificate(certPath, error);
  if (!cert) return false;
  const auto key = privateKey(keyPath, error);
  if (!key) return false;
  const int ok = X509_check_private_key(cert.get(), key.get());
  ERR_clear_error();
  if (ok != 1) {
    return failWith(
        error, "the key in '" + keyPath + "' does not match the certificate in '" + certPath + "'");
  }
  return true;
}

}  // namespace aclkd
