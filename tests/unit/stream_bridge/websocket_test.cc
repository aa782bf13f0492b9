#include "stream_bridge/websocket.h"

#include <gtest/gtest.h>

namespace aclkd::stream_bridge {
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

}  // namespace
}  // namespace aclkd::stream_bridge
