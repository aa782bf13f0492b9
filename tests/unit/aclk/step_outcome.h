#pragma once

#include <optional>

#include "aclk/env.h"

namespace aclkd::test {

// One bootstrap step's value and its failure side by side, so that an assertion reads either
// (the steps themselves return the value and fill a StepFailure: docs/conventions.md#errors).
template <typename T>
struct StepOutcome {
  std::optional<T> value;
  aclk::StepFailure failure;
};

// Runs `interpret(args..., &failure)` and keeps both halves.
template <typename T, typename F, typename... Args>
StepOutcome<T> runStep(F interpret, const Args&... args) {
  StepOutcome<T> out;
  out.value = interpret(args..., &out.failure);
  return out;
}

}  // namespace aclkd::test
