#include "daemon/machine_guid.h"

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/uuid.h"

namespace aclkd::daemon {

std::optional<std::string> loadOrCreateMachineGuid(const std::string& stateDir,
                                                   std::string* error) {
  const std::string path = stateDir + "/machine_guid";
  if (auto text = readFile(path)) {
    std::string guid = *text;
    while (!guid.empty() && std::isspace(static_cast<unsigned char>(guid.back()))) {
      guid.pop_back();
    }
    if (isUuid(guid)) {
      return guid;
    }
    spdlog::warn("{} does not hold a GUID; creating a new machine GUID", path);
  }
  const std::string guid = newUuid();
  if (!writeFileAtomic(path, guid, 0644, error)) {
    return std::nullopt;
  }
  spdlog::info("created machine GUID {}", guid);
  return guid;
}

}  // namespace aclkd::daemon
