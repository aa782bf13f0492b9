// libFuzzer target: the MQTT bytes the transport reads itself before Paho sees them
// (aclk/transport/mqtt_stream.h): the cloud's packet stream through MqttHeaderScanner (the 16 MiB
// limit and the ping deadline depend on it), the held first bytes through firstPacketSize, and
// the cloud's CONNACK through liftReceiveMaximum, which rewrites it in place. The outbound
// splitter (Paho's bytes, cut into packets for the topic aliases) gets the same bytes.
// Besides "never crash": how the bytes are cut never changes the headers the scanner reports, a
// packet size is never past the bytes given, and a lifted CONNACK keeps its length.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aclk/transport/mqtt_stream.h"

using namespace aclkd::aclk::transport;

namespace {

// Every fixed header the scanner reports, and whether it accepted the whole input.
struct Scan {
  std::vector<uint64_t> headers;
  bool ok = true;
};

Scan scan(std::string_view input, size_t piece) {
  Scan out;
  MqttHeaderScanner scanner([&out](uint8_t first, uint32_t length) {
    out.headers.push_back((uint64_t{first} << 32) | length);
    return length <= (16u << 20);  // the transport's limit
  });
  const auto* p = reinterpret_cast<const uint8_t*>(input.data());
  for (size_t at = 0; at < input.size() && out.ok; at += piece) {
    out.ok = scanner.feed(p + at, std::min(piece, input.size() - at));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t piece = size > 0 ? data[0] % 7 + 1 : 1;

  const Scan whole = scan(input, size + 1);
  const Scan cut = scan(input, piece);
  if (whole.ok != cut.ok || whole.headers != cut.headers) __builtin_trap();

  const long first = firstPacketSize(input);
  if (first > static_cast<long>(size)) __builtin_trap();
  if (first > 0 && (whole.headers.empty() ||
                    static_cast<uint32_t>(whole.headers[0]) > static_cast<uint64_t>(first))) {
    __builtin_trap();
  }

  std::string connack(input);
  if (const auto server = liftReceiveMaximum(&connack)) {
    std::string again = connack;
    if (connack.size() != size || liftReceiveMaximum(&again) != uint16_t{65535}) __builtin_trap();
  } else if (connack != input) {
    __builtin_trap();  // nothing is changed unless the value was found
  }

  OutboundPackets outbound({"/agent/claim/outbound/v1/ContextsUpdated"}, [](MqttPacketType) {},
                           uint16_t{60});
  std::string sent;
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  for (size_t at = 0; at < size; at += piece) {
    if (!outbound.feed(p + at, std::min(piece, size - at), &sent)) break;
  }
  return 0;
}
