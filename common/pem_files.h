#pragma once

#include <string>

namespace aclkd {

// Checks of the PEM files an option names, done before they are used so that --check-config
// and the start report the same errors (with the option's file:line) instead of a TLS handshake
// failing later. Each returns false with *error saying what is wrong (never key material).

// A readable file holding at least one certificate (a CA bundle or a certificate chain).
bool checkCertificateFile(const std::string& path, std::string* error);

// A readable, unencrypted private key.
bool checkPrivateKeyFile(const std::string& path, std::string* error);

// The first certificate of `certPath` belongs to the key in `keyPath` (both already checked).
bool checkKeyMatchesCertificate(const std::string& certPath, const std::string& keyPath,
                                std::string* error);

}  // namespace aclkd
