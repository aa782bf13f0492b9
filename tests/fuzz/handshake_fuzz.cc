// libFuzzer target: the child's STREAM request and the reply derived from it. Any input must
// parse or fail with a message, never crash, and a parsed request must yield a prompt the child
// would accept.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "stream_bridge/handshake.h"

using namespace aclkd::stream_bridge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const auto end = handshakeEnd(input);
  if (end && (*end > input.size() || input.substr(*end - 4, 4) != "\r\n\r\n")) __builtin_trap();

  std::string error;
  const auto request = parseStreamRequest(end ? input.substr(0, *end) : input, &error);
  if (!request) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  if (request->apiKey.empty() || request->hostname.empty() || request->machineGuid.empty() ||
      request->registryHostname.empty()) {
    __builtin_trap();
  }

  const bool hasProtocolVersion = request->systemInfo.count("NETDATA_PROTOCOL_VERSION") > 0;
  const uint64_t child = expandVersion(request->ver, hasProtocolVersion);
  for (const bool compression : {false, true}) {
    const uint64_t supported = cap::kVCaps | cap::kHLabels | cap::kClaim | cap::kCLabels |
                               cap::kFunctions | cap::kReplication | cap::kBinary | cap::kLz4;
    const uint64_t negotiated = negotiate(child, supported, compression);
    // Nothing the bridge does not implement, and no compression unless enabled.
    if (negotiated & ~(supported | cap::kV1 | cap::kV2 | cap::kVN)) __builtin_trap();
    if (!compression && (negotiated & cap::kLz4)) __builtin_trap();
    const std::string prompt = successPrompt(negotiated);
    // The child's acceptance rule for the numbered prompt (docs/protocol/streaming.md §3.1).
    constexpr std::string_view kPrefix = "Hit me baby, push them over with the version=";
    if (prompt.compare(0, kPrefix.size(), kPrefix) == 0 && prompt.size() >= kPrefix.size() + 30) {
      __builtin_trap();
    }
  }
  return 0;
}
