#pragma once

#include <string>
#include <utility>

namespace aclkd {

// The failure path of the project's error convention (docs/conventions.md#errors): a fallible
// operation returns false (or nullopt) and says why through `std::string* error`. This sets the
// reason when the caller asked for one and returns false, so that a check reads
// `if (bad) return failWith(error, "why");`.
inline bool failWith(std::string* error, std::string reason) {
  if (error != nullptr) {
    *error = std::move(reason);
  }
  return false;
}

}  // namespace aclkd
