#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "testcloud/api_router.h"
#include "testcloud/cloud_state.h"

namespace aclkd::testcloud {

// The test cloud's own surface, for tests and scripts rather than agents:
//   GET  /healthz                          200 `ok`
//   GET  /testcloud/api/claims             200 array of recorded claims
//   GET  /testcloud/api/claims/{claimed_id} 200 one claim, 404 ErrNotFound
//   GET  /testcloud/api/faults             200 the faults in force
//   POST /testcloud/api/faults             200 the faults after applying the posted fields
//   PUT  /testcloud/api/faults             200 the faults, exactly the posted fields (rest off)
class ControlApi {
 public:
  explicit ControlApi(CloudState& state) : state_(state) {}

  void addRoutes(ApiRouter& router);

 private:
  CloudState& state_;
};

// Applies the fields present in `patch` to `faults` (absent fields keep their value). False with
// *error naming the offending field; `faults` is then unchanged.
bool applyFaultsPatch(const nlohmann::json& patch, Faults& faults, std::string* error);
nlohmann::ordered_json faultsToJson(const Faults& faults);

}  // namespace aclkd::testcloud
