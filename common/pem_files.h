#pragma once

#include <string>

namespace aclkd {

// Checks of the PEM files an option names, done before they are used so that --check-config
// and the start report the same errors (with the option's file:line) instead of a TLS handshake
// failing later. Each returns "" when fine, else what is wrong (never key material).

// A readable file holding at least one certificate (a CA bundle or a certificate chain).
std::string checkCertificateFile(const std::string& path);

// A readable, unencrypted private key.
std::string checkPrivateKeyFile(const std::string& path);

// The first certificate of `certPath` belongs to the key in `keyPath` (both already checked).
std::string checkKeyMatchesCertificate(const std::string& certPath, const std::string& keyPath);

}  // namespace aclkd
