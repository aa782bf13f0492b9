#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aclkd::stream_bridge {

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

// Reads client frames from a byte stream in any pieces. Client frames must be masked; payloads
// above `maxPayload` are refused (the channel protocol's commands are small).
class WsFrameReader {
 public:
  explicit WsFrameReader(size_t maxPayload = 4096) : maxPayload_(maxPayload) {}
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, nullopt when more bytes are needed; on a protocol error `error` is
  // set and the connection must be closed.
  std::optional<WsFrame> next(std::string* error);

 private:
  size_t maxPayload_;
  std::string buffer_;
};

}  // namespace aclkd::stream_bridge
