#include "web/websocket.h"

#include <gtest/gtest.h>
#include <vector>

namespace aclkd::web {
namespace {

std::string masked(uint8_t first, const std::string& payload) {
  std::string out;
  out += static_cast<char>(first);
  out += static_cast<char>(0x80 | payload.size());
  const char mask[4] = {1, 2, 3, 4};
  out.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ mask[i % 4]);
  return out;
}

TEST(WebSocketTest, AcceptKeyOfRfc6455) {
  EXPECT_EQ(webSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketTest, EncodesTheThreeLengthForms) {
  EXPECT_EQ(encodeWsFrame(WsOpcode::kText, "hi"), std::string("\x81\x02hi", 4));
  EXPECT_EQ(encodeWsFrame(WsOpcode::kText, std::string(200, 'x')).substr(0, 4),
            std::string("\x81\x7e\x00\xc8", 4));
  EXPECT_EQ(encodeWsFrame(WsOpcode::kText, std::string(70000, 'x')).size(), 70000u + 10);
}

TEST(WebSocketTest, ReadsMaskedFramesInPieces) {
  const auto bytes = masked(0x81, "hello") + masked(0x89, "p");
  WsFrameReader reader;
  std::string error;
  for (char c : bytes) reader.feed(std::string_view(&c, 1));
  auto f = reader.next(&error);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, WsOpcode::kText);
  EXPECT_EQ(f->payload, "hello");
  f = reader.next(&error);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, WsOpcode::kPing);
  EXPECT_FALSE(reader.next(&error));
  EXPECT_TRUE(error.empty());
}

TEST(WebSocketTest, RefusesUnmaskedReservedAndOversizeFrames) {
  std::string error;
  WsFrameReader a;
  a.feed(std::string("\x81\x02hi", 4));
  EXPECT_FALSE(a.next(&error));
  EXPECT_NE(error.find("unmasked"), std::string::npos);
  error.clear();
  WsFrameReader b;
  b.feed(masked(0xC1, "x"));
  EXPECT_FALSE(b.next(&error));
  EXPECT_NE(error.find("reserved"), std::string::npos);
  error.clear();
  WsFrameReader c(4);
  c.feed(masked(0x81, "toolong"));
  EXPECT_FALSE(c.next(&error));
  EXPECT_NE(error.find("exceeds"), std::string::npos);
}

// A masked client frame with any payload length (the 16-bit form from 126 bytes).
std::string maskedAny(uint8_t first, const std::string& payload) {
  if (payload.size() < 126) return masked(first, payload);
  std::string out;
  out += static_cast<char>(first);
  out += static_cast<char>(0x80 | 126);
  out += static_cast<char>(payload.size() >> 8);
  out += static_cast<char>(payload.size() & 0xFF);
  const char mask[4] = {1, 2, 3, 4};
  out.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ mask[i % 4]);
  return out;
}

struct Outcome {
  std::vector<WsFrame> frames;
  std::string error;
  uint16_t code = 0;
};

Outcome readAll(const std::string& bytes) {
  WsFrameReader reader;
  reader.feed(bytes);
  Outcome o;
  while (auto f = reader.next(&o.error, &o.code)) o.frames.push_back(*f);
  return o;
}

TEST(WebSocketRfc6455, FragmentedMessageIsReassembledAroundAPing) {
  const auto o = readAll(masked(0x01, "{\"id\":") + masked(0x89, "in-between") +
                         masked(0x00, "1,") + masked(0x80, "\"x\":2}"));
  ASSERT_EQ(o.error, "");
  ASSERT_EQ(o.frames.size(), 2u);
  EXPECT_EQ(o.frames[0].opcode, WsOpcode::kPing);
  EXPECT_EQ(o.frames[0].payload, "in-between");
  EXPECT_EQ(o.frames[1].opcode, WsOpcode::kText);
  EXPECT_TRUE(o.frames[1].fin);
  EXPECT_EQ(o.frames[1].payload, "{\"id\":1,\"x\":2}");
}

TEST(WebSocketRfc6455, ProtocolErrorsAre1002) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {masked(0x80, "stray"), "continuation frame without a message"},
      {masked(0x83, ""), "reserved opcode 3"},
      {masked(0x8B, ""), "reserved opcode 11"},
      {masked(0x01, "a") + masked(0x81, "b"), "new WebSocket data frame while"},
      {maskedAny(0x89, std::string(126, 'p')), "control frame over 125 bytes"},
      {masked(0x09, "p"), "fragmented WebSocket control frame"},
      {masked(0x88, "x"), "close frame with a 1-byte payload"},
  };
  for (const auto& [bytes, expected] : cases) {
    const auto o = readAll(bytes);
    EXPECT_NE(o.error.find(expected), std::string::npos) << o.error;
    EXPECT_EQ(o.code, kWsCloseProtocolError) << expected;
  }
}

TEST(WebSocketRfc6455, ControlFramesUpTo125BytesAndMessageLimit) {
  auto o = readAll(maskedAny(0x89, std::string(125, 'p')));
  ASSERT_EQ(o.frames.size(), 1u);
  EXPECT_EQ(o.frames[0].payload.size(), 125u);
  // A fragmented message over the limit: 1009.
  std::string bytes = masked(0x01, std::string(100, 'a'));
  for (int i = 0; i < 50; ++i) bytes += masked(0x00, std::string(100, 'a'));
  o = readAll(bytes);
  EXPECT_NE(o.error.find("exceeds 4096"), std::string::npos) << o.error;
  EXPECT_EQ(o.code, kWsCloseTooBig);
  EXPECT_EQ(wsClosePayload(1002), std::string("\x03\xea", 2));
}

}  // namespace
}  // namespace aclkd::web
