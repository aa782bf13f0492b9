#include "aclk/transport/mqtt_stream.h"

#include <gtest/gtest.h>

namespace aclkd::aclk::transport {
namespace {

std::string publish(const std::string& topic, uint16_t id, const std::string& payload,
                    const std::string& props = "") {
  std::string body;
  body.push_back(static_cast<char>(topic.size() >> 8));
  body.push_back(static_cast<char>(topic.size() & 0xff));
  body += topic;
  body.push_back(static_cast<char>(id >> 8));
  body.push_back(static_cast<char>(id & 0xff));
  appendVarInt(&body, static_cast<uint32_t>(props.size()));
  body += props;
  body += payload;
  std::string out = "\x32";
  appendVarInt(&out, static_cast<uint32_t>(body.size()));
  return out + body;
}

std::string alias(uint16_t a) {
  return std::string("\x23", 1) + static_cast<char>(a >> 8) + static_cast<char>(a & 0xff);
}

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(TopicAliasRewriterTest, FirstUseCarriesTopicAndAliasLaterOnlyTheAlias) {
  TopicAliasRewriter r({"a/one", "a/two"});
  EXPECT_EQ(r.rewrite(publish("a/two", 7, "xy")), publish("a/two", 7, "xy", alias(2)));
  EXPECT_EQ(r.rewrite(publish("a/two", 8, "z")), publish("", 8, "z", alias(2)));
  EXPECT_EQ(r.rewrite(publish("a/one", 9, "")), publish("a/one", 9, "", alias(1)));
  EXPECT_EQ(r.rewrite(publish("a/one", 10, "p")), publish("", 10, "p", alias(1)));
}

TEST(TopicAliasRewriterTest, CallbackTopicsKeepTheirNameAndNoProperties) {
  TopicAliasRewriter r({"a/one"});
  const auto p = publish("reply/to/here", 3, "body");
  EXPECT_EQ(r.rewrite(p), p);
}

TEST(TopicAliasRewriterTest, ExistingPropertiesAreKeptAfterTheAlias) {
  TopicAliasRewriter r({"t"});
  const std::string ct = std::string("\x03\x00\x01z", 4);  // content type "z"
  EXPECT_EQ(r.rewrite(publish("t", 1, "p", ct)), publish("t", 1, "p", alias(1) + ct));
}

TEST(TopicAliasRewriterTest, LargePayloadGetsALongerRemainingLength) {
  TopicAliasRewriter r({"t"});
  const std::string payload(200000, 'x');
  const auto out = r.rewrite(publish("t", 1, payload));
  EXPECT_EQ(out, publish("t", 1, payload, alias(1)));
}

TEST(TopicAliasRewriterTest, TruncatedPacketPassesUnchanged) {
  TopicAliasRewriter r({"t"});
  const std::string bad = "\x32\x05\x00\x09t";
  EXPECT_EQ(r.rewrite(bad), bad);
}

TEST(OutboundPacketsTest, CutsTheStreamIntoPacketsAcrossReads) {
  std::vector<MqttPacketType> seen;
  OutboundPackets out({"t"}, [&](MqttPacketType t) { seen.push_back(t); });
  const std::string stream = std::string("\xC0\x00", 2) + publish("t", 1, "abc") +
                             publish("t", 2, "d") + std::string("\xE0\x00", 2);
  std::string sent;
  for (char c : stream) {  // one byte at a time: the worst split
    ASSERT_TRUE(out.feed(reinterpret_cast<const uint8_t*>(&c), 1, &sent));
  }
  EXPECT_EQ(sent, std::string("\xC0\x00", 2) + publish("t", 1, "abc", alias(1)) +
                      publish("", 2, "d", alias(1)) + std::string("\xE0\x00", 2));
  EXPECT_EQ(seen, (std::vector<MqttPacketType>{MqttPacketType::kPingreq, MqttPacketType::kPublish,
                                               MqttPacketType::kPublish,
                                               MqttPacketType::kDisconnect}));
}

TEST(OutboundPacketsTest, MalformedLengthIsAnError) {
  OutboundPackets out({}, [](MqttPacketType) {});
  const std::string bad = "\x30\xff\xff\xff\xff\x01";
  std::string sent;
  EXPECT_FALSE(out.feed(bytes(bad), bad.size(), &sent));
}

TEST(MqttHeaderScannerTest, ReportsEveryHeaderOfAFrameHoldingSeveralPackets) {
  std::vector<std::pair<uint8_t, uint32_t>> headers;
  MqttHeaderScanner scan([&](uint8_t first, uint32_t len) {
    headers.emplace_back(first, len);
    return true;
  });
  const std::string frame = std::string("\x20\x03\x00\x00\x00", 5) + publish("x", 1, "hello") +
                            std::string("\xD0\x00", 2);
  ASSERT_TRUE(scan.feed(bytes(frame), 7));
  ASSERT_TRUE(scan.feed(bytes(frame) + 7, frame.size() - 7));
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0].first, 0x20);
  EXPECT_EQ(headers[1].first, 0x32);
  EXPECT_EQ(headers[1].second, publish("x", 1, "hello").size() - 2);
  EXPECT_EQ(headers[2], (std::pair<uint8_t, uint32_t>{0xD0, 0}));
}

TEST(MqttHeaderScannerTest, RefusesAnOversizedPacketFromItsHeaderAlone) {
  const uint32_t limit = 16u << 20;
  MqttHeaderScanner scan([&](uint8_t, uint32_t len) { return len <= limit; });
  std::string header = "\x30";
  appendVarInt(&header, limit + 1);
  EXPECT_FALSE(scan.feed(bytes(header), header.size()));
}

}  // namespace
}  // namespace aclkd::aclk::transport

namespace aclkd::aclk::transport {
namespace {

TEST(OutboundPacketsTest, DisconnectWithReasonZeroGoesOutInItsShortForm) {
  OutboundPackets out({}, [](MqttPacketType) {});
  std::string sent;
  const std::string paho("\xE0\x02\x00\x00", 4);
  ASSERT_TRUE(out.feed(bytes(paho), paho.size(), &sent));
  EXPECT_EQ(sent, std::string("\xE0\x00", 2));
  const std::string other("\xE0\x01\x04", 3);  // reason 4 (with Will) stays as it is
  sent.clear();
  ASSERT_TRUE(out.feed(bytes(other), other.size(), &sent));
  EXPECT_EQ(sent, other);
}

TEST(ConnectKeepAliveTest, TheTransportWritesKeepAliveIntoTheConnect) {
  // CONNECT, MQTT 5, flags 0xD6, keepalive 0, properties 22 FF FF, then the rest (not parsed).
  const std::string connect("\x10\x10\x00\x04MQTT\x05\xD6\x00\x00\x03\x22\xff\xff\x00\x00", 18);
  std::string sent;
  OutboundPackets out({}, [](MqttPacketType) {}, uint16_t{60});
  ASSERT_TRUE(out.feed(bytes(connect), connect.size(), &sent));
  std::string expected = connect;
  expected[10] = 0;
  expected[11] = 60;
  EXPECT_EQ(sent, expected);
}

// CONNACK, MQTT 5: flags 0, reason 0, then the properties given.
std::string connackWith(const std::string& properties) {
  std::string body("\x00\x00", 2);
  appendVarInt(&body, static_cast<uint32_t>(properties.size()));
  body += properties;
  std::string packet("\x20", 1);
  appendVarInt(&packet, static_cast<uint32_t>(body.size()));
  return packet + body;
}

TEST(LiftReceiveMaximumTest, RaisesTheServersValueInPlaceAndReturnsIt) {
  // Maximum QoS 1, Assigned Client Identifier "ab", User Property (k, v), Receive Maximum 20,
  // Topic Alias Maximum 10: the value is found behind properties of every shape.
  const std::string props("\x24\x01" "\x12\x00\x02" "ab" "\x26\x00\x01k\x00\x01v"
                          "\x21\x00\x14" "\x22\x00\x0a", 20);
  std::string connack = connackWith(props);
  std::string expected = connackWith(props);
  expected[expected.size() - 4] = '\xff';
  expected[expected.size() - 5] = '\xff';
  EXPECT_EQ(liftReceiveMaximum(&connack), std::optional<uint16_t>(20));
  EXPECT_EQ(connack, expected);
}

TEST(LiftReceiveMaximumTest, ACONNACKWithoutTheValueOrOneItCannotReadIsLeftAlone) {
  for (const std::string& packet :
       {connackWith(std::string("\x22\x00\x0a", 3)),   // no Receive Maximum
        connackWith(std::string("\x7f\x00\x21\x00\x14", 5)),  // unknown property first
        connackWith(std::string("\x21\x00", 2)),          // value cut short
        std::string("\x20\x03\x00\x00\x00", 5) + "x",   // bytes past the packet
        std::string("\x30\x02\x00\x00", 4)}) {          // not a CONNACK
    std::string copy = packet;
    EXPECT_EQ(liftReceiveMaximum(&copy), std::nullopt);
    EXPECT_EQ(copy, packet);
  }
}

TEST(FirstPacketSizeTest, WholeIncompleteAndMalformed) {
  EXPECT_EQ(firstPacketSize(std::string("\xD0\x00\x30", 3)), 2);  // PINGRESP, then more
  EXPECT_EQ(firstPacketSize(std::string("\x20\x03\x00", 3)), 0);  // body still to come
  EXPECT_EQ(firstPacketSize(std::string("\x30\x80", 2)), 0);       // length still to come
  EXPECT_EQ(firstPacketSize(std::string("\x30\x80\x80\x80\x80\x01", 6)), -1);
}

}  // namespace
}  // namespace aclkd::aclk::transport
