#include "daemon/options.h"

#include "stream_bridge/stream_conf.h"

namespace aclkd::daemon {

const std::vector<OptionSpec>& optionTable() {
  static const std::vector<OptionSpec> table = [] {
    std::vector<OptionSpec> rows = {
#define ACLKD_OPTION_SPEC(field, kind, file, section, name, def, help, choices, min, max) \
  {file, section, name, OptionType::k##kind, def, help, splitChoices(choices), min, max},
        ACLKD_DAEMON_OPTIONS(ACLKD_OPTION_SPEC)
#undef ACLKD_OPTION_SPEC
    };
    const auto& stream = stream_bridge::streamConfOptionTable();
    rows.insert(rows.end(), stream.begin(), stream.end());
    return rows;
  }();
  return table;
}

claim::ClaimConf claimConfOf(const Options& options) {
  claim::ClaimConf c;
  c.url = options.claimUrl;
  c.token = options.claimToken;
  c.rooms = options.claimRooms;
  c.proxy = options.claimProxy;
  c.insecure = options.claimInsecure;
  return c;
}

Options typedOptions(const ConfigValues& aclkdConf, const ConfigValues& claimConf) {
  Options o;
#define ACLKD_OPTION_READ(field, kind, file, section, name, ...)                             \
  o.field = readOption<decltype(o.field)>(std::string_view(file) == "claim.conf" ? claimConf \
                                                                                 : aclkdConf, \
                                          section, name);
  ACLKD_DAEMON_OPTIONS(ACLKD_OPTION_READ)
#undef ACLKD_OPTION_READ
  return o;
}

}  // namespace aclkd::daemon
