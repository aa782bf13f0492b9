#pragma once

// The Netdata captures under tests/fixtures, for the stream bridge's tests and benchmarks.
// Header-only; the including target defines ACLKD_FIXTURES_DIR.

#include <fstream>
#include <sstream>
#include <string>

#include "stream_bridge/handshake.h"

namespace aclkd::stream_bridge::testing_support {

// A capture's bytes; "" when it cannot be read (the caller's checks then fail).
inline std::string readFixture(const std::string& name) {
  std::ifstream in(std::string(ACLKD_FIXTURES_DIR) + "/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The stream part of the 1.37 capture: everything after the handshake's blank line ("" when the
// capture is missing).
inline std::string fixtureStream() {
  const std::string all = readFixture("netdata-1.37-child-stream.txt");
  const auto end = handshakeEnd(all);
  return end ? all.substr(*end) : std::string();
}

}  // namespace aclkd::stream_bridge::testing_support
