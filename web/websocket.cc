#include "web/websocket.h"

#include <openssl/evp.h>

#include "common/base64.h"

namespace aclkd::web {

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

std::string wsClosePayload(uint16_t code) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  return out;
}

std::optional<WsFrame> WsFrameReader::next(std::string* error, uint16_t* closeCode) {
  uint16_t ignored = 0;
  if (!closeCode) closeCode = &ignored;
  *closeCode = kWsCloseProtocolError;
  while (auto f = nextFrame(error, closeCode)) {
    const bool control = static_cast<uint8_t>(f->opcode) >= 8;
    if (control) return f;  // may arrive between the fragments of a message
    if (f->opcode == WsOpcode::kContinuation) {
      if (!partial_) {
        *error = "WebSocket continuation frame without a message to continue";
        return std::nullopt;
      }
      if (partial_->payload.size() + f->payload.size() > maxMessage_) {
        *error = "WebSocket message exceeds " + std::to_string(maxMessage_) + " bytes";
        *closeCode = kWsCloseTooBig;
        return std::nullopt;
      }
      partial_->payload += f->payload;
      if (!f->fin) continue;
      WsFrame whole = std::move(*partial_);
      partial_.reset();
      whole.fin = true;
      return whole;
    }
    if (partial_) {
      *error = "new WebSocket data frame while a fragmented message is open";
      return std::nullopt;
    }
    if (!f->fin) {
      partial_ = std::move(f);
      continue;
    }
    return f;
  }
  return std::nullopt;
}

std::optional<WsFrame> WsFrameReader::nextFrame(std::string* error, uint16_t* closeCode) {
  if (buffer_.size() < 2) return std::nullopt;
  const auto b0 = static_cast<uint8_t>(buffer_[0]);
  const auto b1 = static_cast<uint8_t>(buffer_[1]);
  if (b0 & 0x70) {
    *error = "WebSocket frame with reserved bits set (no extensions were negotiated)";
    return std::nullopt;
  }
  const uint8_t opcode = b0 & 0x0F;
  if ((opcode > 2 && opcode < 8) || opcode > 10) {
    *error = "WebSocket frame with the reserved opcode " + std::to_string(opcode);
    return std::nullopt;
  }
  if (opcode >= 8 && !(b0 & 0x80)) {
    *error = "fragmented WebSocket control frame";
    return std::nullopt;
  }
  if (opcode >= 8 && (b1 & 0x7F) > 125) {
    *error = "WebSocket control frame over 125 bytes";
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
  if (len > maxMessage_) {
    *error = "WebSocket frame of " + std::to_string(len) + " bytes exceeds " +
             std::to_string(maxMessage_);
    *closeCode = kWsCloseTooBig;
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
  if (f.opcode == WsOpcode::kClose && f.payload.size() == 1) {
    *error = "WebSocket close frame with a 1-byte payload";
    return std::nullopt;
  }
  return f;
}

}  // namespace aclkd::web
