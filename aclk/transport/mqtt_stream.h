#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aclkd::aclk::transport {

// MQTT control packet types the transport cares about (first byte >> 4).
enum class MqttPacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kSubscribe = 8,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
};

// Follows the fixed headers of an MQTT byte stream without keeping the packets: the inbound side
// forwards every byte to Paho the moment it arrives and only needs to know where packets start
// (PINGRESP for the ping deadline) and how big they are (the 16 MiB limit is enforced as soon as
// a header announces more, before any of the body is buffered).
class MqttHeaderScanner {
 public:
  // Called for each complete fixed header. Returning false stops the scan (feed() returns false).
  using OnHeader = std::function<bool(uint8_t firstByte, uint32_t remainingLength)>;
  explicit MqttHeaderScanner(OnHeader onHeader) : onHeader_(std::move(onHeader)) {}

  // False when a header was malformed (remaining length over 4 bytes) or the callback refused it.
  bool feed(const uint8_t* data, size_t size);

 private:
  OnHeader onHeader_;
  enum class State { kFirstByte, kLength, kBody } state_ = State::kFirstByte;
  uint8_t first_ = 0;
  uint32_t length_ = 0;
  int lengthBytes_ = 0;
  uint64_t bodyLeft_ = 0;
};

// Topic aliases of docs/protocol/aclk.md §5.7, applied to Paho's outbound PUBLISH packets: every
// topic of the `/password` list gets alias 1, 2, 3, … in list order; the first PUBLISH on an
// aliased topic carries the full topic and property 0x23, later ones an empty topic and the alias.
// Paho C has no client-side alias table, so rewriting the packets on their way out is the one place
// where it can be done without touching Paho's session state (packet ids and PUBACKs are
// unchanged).
class TopicAliasRewriter {
 public:
  explicit TopicAliasRewriter(const std::vector<std::string>& topics);
  // Rewrites one complete PUBLISH packet (fixed header included). Packets it cannot parse are
  // returned unchanged (the broker then judges them).
  std::string rewrite(std::string_view packet);
  // The same, appended to *out: the outbound hot path, one copy of the payload and no
  // allocation of its own.
  void rewriteInto(std::string_view packet, std::string* out);

 private:
  // Transparent, so that a topic inside the packet is looked up without copying it.
  struct TopicHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint16_t, TopicHash, std::equal_to<>> aliases_;
  std::vector<bool> used_;
};

// Sets the Keep Alive field of a complete CONNECT packet (in place). False when the packet is
// not a CONNECT it can parse.
bool setConnectKeepAlive(std::string* packet, uint16_t seconds);

// Receive Maximum (property 0x21) of a complete MQTT 5 CONNACK packet, raised in place to 65535
// (same length, so the packet stays valid). Returns the server's value, nullopt when the CONNACK
// has none or cannot be parsed (then nothing is changed).
//
// Why: docs/protocol/aclk.md §5.5 has the agent record the server's Receive Maximum for statistics
// only and publish without waiting for it. Paho instead caps its QoS 1 messages in flight at that
// value and parks the rest in its command queue, which it looks at again only on its 1 s timer:
// with mosquitto's default of 20, a burst of more than 20 cmd replies left the 21st waiting a whole
// second (measured: window 40 → max 1.1 s, window 100 → 4 s). Lifting the value on its way to Paho
// gives the agent's wire; the link still reports the server's own value (aclk-state).
std::optional<uint16_t> liftReceiveMaximum(std::string* connack);

// The outbound byte stream from Paho, cut into whole packets (a PUBLISH must be complete before
// its topic can be rewritten). Reports each packet's type; returns what to send on. With
// `connectKeepAlive` set, the CONNECT's Keep Alive is replaced by it (see WssTransport).
class OutboundPackets {
 public:
  using OnPacket = std::function<void(MqttPacketType type)>;
  OutboundPackets(const std::vector<std::string>& aliasTopics, OnPacket onPacket,
                  std::optional<uint16_t> connectKeepAlive = std::nullopt)
      : rewriter_(aliasTopics), onPacket_(std::move(onPacket)),
        connectKeepAlive_(connectKeepAlive) {}
  // Appends Paho's bytes; whole packets (rewritten) are appended to *out. False on a malformed
  // fixed header.
  bool feed(const uint8_t* data, size_t size, std::string* out);

 private:
  TopicAliasRewriter rewriter_;
  OnPacket onPacket_;
  std::optional<uint16_t> connectKeepAlive_;
  std::string pending_;
};

// Size of the first MQTT packet in `bytes` when it is all there, 0 when more bytes are needed, -1
// for a malformed remaining length.
long firstPacketSize(std::string_view bytes);

// Encodes an MQTT variable byte integer.
void appendVarInt(std::string* out, uint32_t value);

}  // namespace aclkd::aclk::transport
