#include "daemon/config_checks.h"

#include "common/pem_files.h"
#include "daemon/daemon_config.h"
#include "stream_bridge/stream_server.h"

namespace aclkd::daemon {
namespace {

// "path:line: [section] name = 'value': problem", or "aclkd.conf (default) …" for a default.
std::string located(const ConfigValues& values, const char* section, const char* name,
                    const std::string& problem) {
  std::string where = values.origin(section, name);
  if (where.empty() || where == "default") where = "aclkd.conf (default)";
  return where + ": [" + section + "] " + name + " = '" + values.getString(section, name) +
         "': " + problem;
}

}  // namespace

void checkDaemonConfig(const DaemonConfig& config, ConfigDiagnostics& diag) {
  const ConfigValues& v = config.aclkd;
  auto error = [&](const char* section, const char* name, const std::string& problem) {
    diag.errors.push_back(located(v, section, name, problem));
  };

  const std::string bindTo = config.options.bindTo;
  if (!bindTo.empty()) {
    std::string address;
    int port = 0;
    stream_bridge::TlsMode tls = stream_bridge::TlsMode::kNone;
    if (auto e = stream_bridge::parseBindTo(bindTo, &address, &port, &tls); !e.empty()) {
      error("web", "bind to", e);
    } else if (tls != stream_bridge::TlsMode::kNone &&
               (config.options.sslCertificate.empty() ||
                config.options.sslKey.empty())) {
      error("web", "bind to",
            "TLS (^SSL=) needs both [web] ssl certificate and [web] ssl key to be set");
    }
  }

  const std::string cert = config.options.sslCertificate;
  const std::string key = config.options.sslKey;
  std::string certProblem, keyProblem;
  if (!cert.empty()) {
    certProblem = checkCertificateFile(cert);
    if (!certProblem.empty()) error("web", "ssl certificate", certProblem);
  }
  if (!key.empty()) {
    keyProblem = checkPrivateKeyFile(key);
    if (!keyProblem.empty()) error("web", "ssl key", keyProblem);
  }
  if (!cert.empty() && !key.empty() && certProblem.empty() && keyProblem.empty()) {
    if (auto e = checkKeyMatchesCertificate(cert, key); !e.empty()) error("web", "ssl key", e);
  }

  if (const std::string ca = config.options.cloudCaFile; !ca.empty()) {
    if (auto e = checkCertificateFile(ca); !e.empty()) error("cloud", "ca file", e);
  }
}

}  // namespace aclkd::daemon
