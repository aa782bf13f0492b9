// libFuzzer target: the configuration files, read as loadDaemonConfig reads them (common/
// ini_file.h in Netdata's dialect, checked against the option tables): the input as aclkd.conf,
// as claim.conf (with the rooms list of claim/claim_inputs.h) and as stream.conf
// (stream_bridge/stream_conf.h, with its access checks). Files are local, but written by hand,
// by packaging scripts and by `netdata-claim.sh`-like tools: a typo must give a file:line
// message, never a crash.
// Besides "never crash": every syntax error names the file and line; a file without errors
// yields typed options; a stream.conf decision that refuses says why.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "claim/claim_inputs.h"
#include "common/config_table.h"
#include "common/ini_file.h"
#include "daemon/config_checks.h"
#include "daemon/daemon_config.h"
#include "daemon/options.h"
#include "stream_bridge/stream_conf.h"

using namespace aclkd;

namespace {

void checkMessages(const std::vector<std::string>& messages, std::string_view file) {
  for (const auto& m : messages) {
    if (m.compare(0, file.size(), file) != 0) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  daemon::DaemonConfig cfg;
  ConfigDiagnostics diag;
  const IniDocument aclkdConf = parseIni(text, "aclkd.conf");
  checkMessages(aclkdConf.errors, "aclkd.conf:");
  cfg.aclkd = loadConfig(daemon::optionTable(), "aclkd.conf", aclkdConf, diag);
  cfg.claim = loadConfig(daemon::optionTable(), "claim.conf", parseIni(text, "claim.conf"), diag);
  cfg.options = daemon::typedOptions(cfg.aclkd, cfg.claim);
  (void)claim::claimInputsFromConf(daemon::claimConfOf(cfg.options));
  (void)claim::parseRooms(text);

  std::vector<std::string> warnings, errors;
  if (auto stream = stream_bridge::StreamConf::parse(text, "stream.conf", &warnings, &errors)) {
    checkMessages(errors, "stream.conf:");
    const std::string key = stream->sections().empty() ? "" : stream->sections().begin()->first;
    const auto decision = stream->check(key, key, "127.0.0.1");
    if (!decision.allowed && decision.reply.empty()) __builtin_trap();
    (void)stream->policy(key, key);
    (void)stream->querySettings(key, key);
    (void)stream->compressionOrder(key, key, true);
    cfg.stream = std::move(*stream);
  }
  daemon::checkDaemonConfig(cfg, diag);
  return 0;
}
