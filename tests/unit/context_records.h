#pragma once

// A context as the store's tests write it: every field set, so that a lost field shows.

#include <cstdint>
#include <string>

#include "common/context_record.h"

namespace aclkd::store {

inline ContextRecord storedContext(std::string id, uint64_t version) {
  ContextRecord c;
  c.id = std::move(id);
  c.version = version;
  c.firstEntry = 1796500000;
  c.lastEntry = 0;
  c.title = "Total CPU utilization";
  c.priority = 100;
  c.chartType = "stacked";
  c.units = "percentage";
  c.family = "cpu";
  return c;
}

}  // namespace aclkd::store
