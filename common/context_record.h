#pragma once

#include <cstdint>
#include <string>

namespace aclkd {

// A context as the cloud sees it (the fields of context.v1.ContextUpdated,
// docs/protocol/aclk.md §7.1): what the link sends in a snapshot or an update and what the state
// store keeps of what the cloud last received. One type for both, so that the store's copy is the
// message's copy field for field.
struct ContextRecord {
  std::string id;
  uint64_t version = 0;
  uint64_t firstEntry = 0;
  uint64_t lastEntry = 0;
  bool deleted = false;
  std::string title;
  uint64_t priority = 0;
  std::string chartType;
  std::string units;
  std::string family;
};

}  // namespace aclkd
