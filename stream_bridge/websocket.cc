#include "stream_bridge/websocket.h"

#include <openssl/evp.h>

#include "common/base64.h"

namespace aclkd::stream_bridge {

std::string webSocketAccept(std::string_view clientKey) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(clientKey);
  input += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr);
  return base64Encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string encodeWsFrame(WsOpcode opcode, std::string_view payload) {
  std::string out;
  out += static_cast<char>(0x80 | static_cast<uint8_t>(opcode));
  const size_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>((n >> 8) & 0xFF);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  }
  out.append(payload);
  return out;
}

std::optional<WsFrame> WsFrameReader::next(std::string* error) {
  if (buffer_.size() < 2) return std::nullopt;
  const auto b0 = static_cast<uint8_t>(buffer_[0]);
  const auto b1 = static_cast<uint8_t>(buffer_[1]);
  if (b0 & 0x70) {
    *error = "WebSocket frame with reserved bits set (no extensions were negotiated)";
    return std::nullopt;
  }
  if (!(b1 & 0x80)) {
    *error = "unmasked WebSocket frame from a client";
    return std::nullopt;
  }
  size_t header = 2;
  uint64_t len = b1 & 0x7F;
  if (len == 126) {
    if (buffer_.size() < 4) return std::nullopt;
    len = (static_cast<uint64_t>(static_cast<uint8_t>(buffer_[2])) << 8) |
          static_cast<uint8_t>(buffer_[3]);
    header = 4;
  } else if (len == 127) {
    if (buffer_.size() < 10) return std::nullopt;
    len = 0;
    for (int i = 2; i < 10; ++i) len = (len << 8) | static_cast<uint8_t>(buffer_[i]);
    header = 10;
  }
  if (len > maxPayload_) {
    *error = "WebSocket frame of " + std::to_string(len) + " bytes exceeds " +
             std::to_string(maxPayload_);
    return std::nullopt;
  }
  if (buffer_.size() < header + 4 + len) return std::nullopt;
  const char* mask = buffer_.data() + header;
  WsFrame f;
  f.fin = (b0 & 0x80) != 0;
  f.opcode = static_cast<WsOpcode>(b0 & 0x0F);
  f.payload.resize(len);
  for (size_t i = 0; i < len; ++i) f.payload[i] = buffer_[header + 4 + i] ^ mask[i % 4];
  buffer_.erase(0, header + 4 + len);
  return f;
}

}  // namespace aclkd::stream_bridge
