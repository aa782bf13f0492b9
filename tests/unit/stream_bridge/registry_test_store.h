#pragma once

// The node registry's tests with a real state store: one opened as aclkd opens it, with a short
// batch window so that a test's changes reach the file quickly.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "store/state_store.h"

namespace aclkd::stream_bridge {

inline std::shared_ptr<store::StateStore> openStore(const std::string& path) {
  store::StateStore::Options o;
  o.path = path;
  o.batchWindow = std::chrono::milliseconds(10);
  std::string error;
  std::shared_ptr<store::StateStore> s = store::StateStore::open(o, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

}  // namespace aclkd::stream_bridge
