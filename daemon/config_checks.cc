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
    if (std::string e; !stream_bridge::parseBindTo(bindTo, &address, &port, &tls, &e)) {
      error("web", "bind to", e);
    } else if (tls != stream_bridge::TlsMode::kNone &&
               (config.options.sslCertificate.empty() || config.options.sslKey.empty())) {
      error("web", "bind to",
            "TLS (^SSL=) needs both [web] ssl certificate and [web] ssl key to be set");
    }
  }

  const std::string cert = config.options.sslCertificate;
  const std::string key = config.options.sslKey;
  std::string problem;
  const bool certUsable = !cert.empty() && checkCertificateFile(cert, &problem);
  if (!cert.empty() && !certUsable) error("web", "ssl certificate", problem);
  const bool keyUsable = !key.empty() && checkPrivateKeyFile(key, &problem);
  if (!key.empty() && !keyUsable) error("web", "ssl key", problem);
  if (certUsable && keyUsable && !checkKeyMatchesCertificate(cert, key, &problem)) {
    error("web", "ssl key", problem);
  }

  if (const std::string ca = config.options.cloudCaFile; !ca.empty()) {
    if (!checkCertificateFile(ca, &problem)) error("cloud", "ca file", problem);
  }
}

}  // namespace aclkd::daemon
