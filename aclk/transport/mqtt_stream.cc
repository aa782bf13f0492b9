#include "aclk/transport/mqtt_stream.h"

namespace aclkd::aclk::transport {
namespace {

// Decodes a variable byte integer at `p` (at most 4 bytes). Returns the bytes used, 0 when more
// input is needed, -1 when malformed.
int readVarInt(const uint8_t* p, size_t size, uint32_t* value) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (static_cast<size_t>(i) >= size) {
      return 0;
    }
    v |= static_cast<uint32_t>(p[i] & 0x7f) << (7 * i);
    if ((p[i] & 0x80) == 0) {
      *value = v;
      return i + 1;
    }
  }
  return -1;
}

}  // namespace

long firstPacketSize(std::string_view bytes) {
  if (bytes.size() < 2) {
    return 0;
  }
  uint32_t remaining = 0;
  const int lenBytes =
      readVarInt(reinterpret_cast<const uint8_t*>(bytes.data()) + 1, bytes.size() - 1, &remaining);
  if (lenBytes <= 0) {
    return lenBytes;
  }
  const size_t total = 1 + static_cast<size_t>(lenBytes) + remaining;
  return bytes.size() < total ? 0 : static_cast<long>(total);
}

void appendVarInt(std::string* out, uint32_t value) {
  do {
    uint8_t b = value & 0x7f;
    value >>= 7;
    if (value != 0) {
      b |= 0x80;
    }
    out->push_back(static_cast<char>(b));
  } while (value != 0);
}

bool MqttHeaderScanner::feed(const uint8_t* data, size_t size) {
  size_t i = 0;
  while (i < size) {
    switch (state_) {
      case State::kFirstByte:
        first_ = data[i++];
        length_ = 0;
        lengthBytes_ = 0;
        state_ = State::kLength;
        break;
      case State::kLength: {
        const uint8_t b = data[i++];
        length_ |= static_cast<uint32_t>(b & 0x7f) << (7 * lengthBytes_);
        ++lengthBytes_;
        if ((b & 0x80) != 0) {
          if (lengthBytes_ == 4) {
            return false;
          }
          break;
        }
        if (!onHeader_(first_, length_)) {
          return false;
        }
        bodyLeft_ = length_;
        state_ = bodyLeft_ == 0 ? State::kFirstByte : State::kBody;
        break;
      }
      case State::kBody: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(bodyLeft_, size - i));
        i += take;
        bodyLeft_ -= take;
        if (bodyLeft_ == 0) {
          state_ = State::kFirstByte;
        }
        break;
      }
    }
  }
  return true;
}

TopicAliasRewriter::TopicAliasRewriter(const std::vector<std::string>& topics) {
  for (const auto& t : topics) {
    if (aliases_.size() >= 65535) {
      break;
    }
    // A topic listed twice keeps its first alias, as a map insert does.
    aliases_.emplace(t, static_cast<uint16_t>(aliases_.size() + 1));
  }
  used_.assign(aliases_.size() + 1, false);
}

std::string TopicAliasRewriter::rewrite(std::string_view packet) {
  std::string out;
  rewriteInto(packet, &out);
  return out;
}

void TopicAliasRewriter::rewriteInto(std::string_view packet, std::string* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(packet.data());
  const size_t n = packet.size();
  auto unchanged = [&] { out->append(packet); };
  uint32_t remaining = 0;
  const int lenBytes = n > 1 ? readVarInt(p + 1, n - 1, &remaining) : 0;
  if (lenBytes <= 0 || 1 + lenBytes + remaining != n) {
    return unchanged();
  }
  size_t pos = 1 + lenBytes;
  if (pos + 2 > n) {
    return unchanged();
  }
  const size_t topicLen = (p[pos] << 8) | p[pos + 1];
  if (pos + 2 + topicLen > n) {
    return unchanged();
  }
  const std::string_view topic = packet.substr(pos + 2, topicLen);
  const auto it = aliases_.find(topic);
  if (topicLen == 0 || it == aliases_.end()) {
    return unchanged();
  }
  const size_t afterTopic = pos + 2 + topicLen;
  const int qos = (p[0] >> 1) & 3;
  const size_t idLen = qos > 0 ? 2 : 0;
  if (afterTopic + idLen > n) {
    return unchanged();
  }
  uint32_t propsLen = 0;
  const int propsLenBytes =
      readVarInt(p + afterTopic + idLen, n - afterTopic - idLen, &propsLen);
  const size_t propsStart = afterTopic + idLen + std::max(propsLenBytes, 0);
  if (propsLenBytes <= 0 || propsStart + propsLen > n) {
    return unchanged();
  }
  const uint16_t alias = it->second;
  const bool first = !used_[alias];
  used_[alias] = true;

  // Topic Alias (0x23) first, then Paho's own properties; the topic only on first use.
  const std::string_view keptTopic = first ? topic : std::string_view();
  const std::string_view payload = packet.substr(propsStart + propsLen);
  const uint32_t newPropsLen = 3 + propsLen;
  const size_t newPropsLenBytes = newPropsLen < (1u << 7)    ? 1
                                  : newPropsLen < (1u << 14) ? 2
                                  : newPropsLen < (1u << 21) ? 3
                                                             : 4;
  const size_t bodySize =
      2 + keptTopic.size() + idLen + newPropsLenBytes + newPropsLen + payload.size();
  out->reserve(out->size() + bodySize + 5);
  out->push_back(static_cast<char>(p[0]));
  appendVarInt(out, static_cast<uint32_t>(bodySize));
  out->push_back(static_cast<char>(keptTopic.size() >> 8));
  out->push_back(static_cast<char>(keptTopic.size() & 0xff));
  out->append(keptTopic);
  out->append(packet.substr(afterTopic, idLen));
  appendVarInt(out, newPropsLen);
  out->push_back(0x23);
  out->push_back(static_cast<char>(alias >> 8));
  out->push_back(static_cast<char>(alias & 0xff));
  out->append(packet.substr(propsStart, propsLen));
  out->append(payload);
}

bool setConnectKeepAlive(std::string* packet, uint16_t seconds) {
  const auto* p = reinterpret_cast<const uint8_t*>(packet->data());
  const size_t n = packet->size();
  uint32_t remaining = 0;
  const int lenBytes = n > 1 ? readVarInt(p + 1, n - 1, &remaining) : 0;
  if ((n > 0 && (p[0] >> 4) != static_cast<int>(MqttPacketType::kConnect)) || lenBytes <= 0) {
    return false;
  }
  const size_t nameAt = 1 + lenBytes;
  if (nameAt + 2 > n) {
    return false;
  }
  const size_t keepAliveAt = nameAt + 2 + ((p[nameAt] << 8) | p[nameAt + 1]) + 2;
  if (keepAliveAt + 2 > n) {
    return false;
  }
  (*packet)[keepAliveAt] = static_cast<char>(seconds >> 8);
  (*packet)[keepAliveAt + 1] = static_cast<char>(seconds & 0xff);
  return true;
}

namespace {

// Bytes taken by the value of a CONNACK property (MQTT 5 §3.2.2.3), -1 for an unknown id or a
// value that runs past the end.
long propertyValueSize(uint8_t id, const uint8_t* p, size_t left) {
  const auto lengthPrefixed = [&](size_t at) -> long {
    if (at + 2 > left) return -1;
    const size_t n = at + 2 + ((p[at] << 8) | p[at + 1]);
    return n > left ? -1 : static_cast<long>(n);
  };
  switch (id) {
    case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:  // bytes
      return left >= 1 ? 1 : -1;
    case 0x21: case 0x22: case 0x13:  // two-byte integers
      return left >= 2 ? 2 : -1;
    case 0x11: case 0x27:  // four-byte integers
      return left >= 4 ? 4 : -1;
    case 0x12: case 0x1F: case 0x1A: case 0x1C: case 0x15: case 0x16:  // strings, binary data
      return lengthPrefixed(0);
    case 0x26: {  // user property: a string pair
      const long key = lengthPrefixed(0);
      return key < 0 ? -1 : lengthPrefixed(static_cast<size_t>(key));
    }
    default:
      return -1;
  }
}

}  // namespace

std::optional<uint16_t> liftReceiveMaximum(std::string* connack) {
  auto* p = reinterpret_cast<uint8_t*>(connack->data());
  const size_t n = connack->size();
  uint32_t remaining = 0;
  const int lenBytes = n > 1 ? readVarInt(p + 1, n - 1, &remaining) : 0;
  if (n == 0 || (p[0] >> 4) != static_cast<int>(MqttPacketType::kConnack) || lenBytes <= 0 ||
      1 + lenBytes + remaining != n) {
    return std::nullopt;
  }
  size_t at = 1 + lenBytes + 2;  // flags, reason code
  uint32_t propertiesLength = 0;
  const int propLenBytes = at < n ? readVarInt(p + at, n - at, &propertiesLength) : 0;
  if (propLenBytes <= 0 || at + propLenBytes + propertiesLength != n) {
    return std::nullopt;
  }
  at += propLenBytes;
  while (at < n) {
    const uint8_t id = p[at++];
    const long size = propertyValueSize(id, p + at, n - at);
    if (size < 0) {
      return std::nullopt;
    }
    if (id == 0x21) {
      const auto server = static_cast<uint16_t>((p[at] << 8) | p[at + 1]);
      p[at] = 0xff;
      p[at + 1] = 0xff;
      return server;
    }
    at += static_cast<size_t>(size);
  }
  return std::nullopt;
}

bool OutboundPackets::feed(const uint8_t* data, size_t size, std::string* out) {
  // Whole packets are cut straight from Paho's bytes; only a packet split across reads is
  // copied into pending_.
  const bool direct = pending_.empty();
  if (!direct) {
    pending_.append(reinterpret_cast<const char*>(data), size);
  }
  const std::string_view in =
      direct ? std::string_view(reinterpret_cast<const char*>(data), size) : pending_;
  size_t pos = 0;
  while (pos < in.size()) {
    const long size = firstPacketSize(in.substr(pos));
    if (size < 0) {
      return false;
    }
    if (size == 0) {
      break;
    }
    const auto total = static_cast<size_t>(size);
    const auto* p = reinterpret_cast<const uint8_t*>(in.data()) + pos;
    const auto type = static_cast<MqttPacketType>(p[0] >> 4);
    const std::string_view packet = in.substr(pos, total);
    if (type == MqttPacketType::kPublish) {
      rewriter_.rewriteInto(packet, out);
    } else if (type == MqttPacketType::kDisconnect &&
               (packet == std::string_view("\xE0\x01\x00", 3) ||
                packet == std::string_view("\xE0\x02\x00\x00", 4))) {
      // Paho writes reason 0 and an empty property list; docs/protocol/aclk.md §5.10's DISCONNECT
      // is the equivalent short form `E0 00` (MQTT 5: remaining length 0 means reason 0, no
      // properties).
      out->append("\xE0\x00", 2);
    } else if (type == MqttPacketType::kConnect && connectKeepAlive_) {
      std::string connect(packet);
      setConnectKeepAlive(&connect, *connectKeepAlive_);
      out->append(connect);
    } else {
      out->append(packet);
    }
    onPacket_(type);
    pos += total;
  }
  if (direct) {
    pending_.assign(in.substr(pos));
  } else {
    pending_.erase(0, pos);
  }
  return true;
}

}  // namespace aclkd::aclk::transport
