#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aclkd::web {

// RFC 6455, the server side, for the live channels on the stream port. Written here rather than
// taken from libwebsockets because the port is asio's (it must also speak the non-HTTP `STREAM`
// protocol), and the subset needed is small: the upgrade handshake, text frames out, and
// masked client frames in (text, ping, pong, close), no extensions, no fragmentation of our own.

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string webSocketAccept(std::string_view clientKey);

enum class WsOpcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9,
                                kPong = 10 };

// One unmasked server frame (FIN set).
std::string encodeWsFrame(WsOpcode opcode, std::string_view payload);

struct WsFrame {
  WsOpcode opcode = WsOpcode::kText;
  bool fin = true;
  std::string payload;  // unmasked
};

// Close codes of RFC 6455 §7.4.1 the server sends.
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseProtocolError = 1002;
inline constexpr uint16_t kWsCloseTooBig = 1009;

// A close frame's payload: the code, big-endian.
std::string wsClosePayload(uint16_t code);

// Reads client messages from a byte stream in any pieces, by RFC 6455 §5: client frames must be
// masked; fragmented data messages (FIN=0, then continuations) are reassembled and returned
// whole, with control frames (ping, pong, close) returned as they arrive in between. Protocol
// errors (reserved bits or opcodes, a continuation with no message open, a new data message
// inside an open one, a control frame over 125 bytes or fragmented, a close payload of 1 byte)
// set `error` and `closeCode` 1002; a message over `maxMessage` sets 1009. After an error the
// connection must be closed (after sending a close frame with the code).
class WsFrameReader {
 public:
  explicit WsFrameReader(size_t maxMessage = 4096) : maxMessage_(maxMessage) {}
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete message or control frame, nullopt when more bytes are needed or on an
  // error (`error` not empty then).
  std::optional<WsFrame> next(std::string* error, uint16_t* closeCode = nullptr);

 private:
  std::optional<WsFrame> nextFrame(std::string* error, uint16_t* closeCode);
  size_t maxMessage_;
  std::string buffer_;
  std::optional<WsFrame> partial_;  // a fragmented data message being reassembled
};

}  // namespace aclkd::web
