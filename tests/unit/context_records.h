#pragma once

// A context with every field set, so that a field lost on the way (a message, the store) shows.

#include <cstdint>
#include <string>
#include <utility>

#include "common/context_record.h"

namespace aclkd::test {

inline ContextRecord contextRecord(std::string id, uint64_t version) {
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

}  // namespace aclkd::test
