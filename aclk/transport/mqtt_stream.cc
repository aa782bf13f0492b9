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
  const auto* p = reinterpret_cast<const uint8_t*>(packet.data());
  const size_t n = packet.size();
  uint32_t remaining = 0;
  const int lenBytes = n > 1 ? readVarInt(p + 1, n - 1, &remaining) : 0;
  if (lenBytes <= 0 || 1 + lenBytes + remaining != n) {
    return std::string(packet);
  }
  size_t pos = 1 + lenBytes;
  if (pos + 2 > n) {
    return std::string(packet);
  }
  const size_t topicLen = (p[pos] << 8) | p[pos + 1];
  if (pos + 2 + topicLen > n) {
    return std::string(packet);
  }
  const std::string topic(packet.substr(pos + 2, topicLen));
  const auto it = aliases_.find(topic);
  if (topicLen == 0 || it == aliases_.end()) {
    return std::string(packet);
  }
  const size_t afterTopic = pos + 2 + topicLen;
  const int qos = (p[0] >> 1) & 3;
  const size_t idLen = qos > 0 ? 2 : 0;
  if (afterTopic + idLen > n) {
    return std::string(packet);
  }
  uint32_t propsLen = 0;
  const int propsLenBytes =
      readVarInt(p + afterTopic + idLen, n - afterTopic - idLen, &propsLen);
  const size_t propsStart = afterTopic + idLen + std::max(propsLenBytes, 0);
  if (propsLenBytes <= 0 || propsStart + propsLen > n) {
    return std::string(packet);
  }
  const uint16_t alias = it->second;
  const bool first = !used_[alias];
  used_[alias] = true;

  std::string props;
  props.push_back(0x23);
  props.push_back(static_cast<char>(alias >> 8));
  props.push_back(static_cast<char>(alias & 0xff));
  props.append(packet.substr(propsStart, propsLen));
  const std::string_view payload = packet.substr(propsStart + propsLen);

  std::string body;
  const std::string_view keptTopic = first ? std::string_view(topic) : std::string_view();
  body.reserve(packet.size() + 8);
  body.push_back(static_cast<char>(keptTopic.size() >> 8));
  body.push_back(static_cast<char>(keptTopic.size() & 0xff));
  body.append(keptTopic);
  body.append(packet.substr(afterTopic, idLen));
  appendVarInt(&body, static_cast<uint32_t>(props.size()));
  body.append(props);
  body.append(payload);

  std::string out;
  out.reserve(body.size() + 5);
  out.push_back(static_cast<char>(p[0]));
  appendVarInt(&out, static_cast<uint32_t>(body.size()));
  out.append(body);
  return out;
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

bool OutboundPackets::feed(const uint8_t* data, size_t size, std::string* out) {
  pending_.append(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  while (pending_.size() - pos >= 2) {
    const auto* p = reinterpret_cast<const uint8_t*>(pending_.data()) + pos;
    uint32_t remaining = 0;
    const int lenBytes = readVarInt(p + 1, pending_.size() - pos - 1, &remaining);
    if (lenBytes < 0) {
      return false;
    }
    if (lenBytes == 0) {
      break;
    }
    const size_t total = 1 + lenBytes + static_cast<size_t>(remaining);
    if (pending_.size() - pos < total) {
      break;
    }
    const auto type = static_cast<MqttPacketType>(p[0] >> 4);
    const std::string_view packet(pending_.data() + pos, total);
    if (type == MqttPacketType::kPublish) {
      out->append(rewriter_.rewrite(packet));
    } else if (type == MqttPacketType::kDisconnect &&
               (packet == std::string_view("\xE0\x01\x00", 3) ||
                packet == std::string_view("\xE0\x02\x00\x00", 4))) {
      // Paho writes reason 0 and an empty property list; §5.10's DISCONNECT is the equivalent
      // short form `E0 00` (MQTT 5: remaining length 0 means reason 0, no properties).
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
  pending_.erase(0, pos);
  return true;
}

}  // namespace aclkd::aclk::transport
