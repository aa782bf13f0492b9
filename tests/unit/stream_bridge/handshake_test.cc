#include "stream_bridge/handshake.h"

#include <gtest/gtest.h>

#include "unit/fixtures.h"

namespace aclkd::stream_bridge {
namespace {

using testing_support::readFixture;

std::string fixtureRequest() { return readFixture("netdata-1.37-handshake.txt"); }

// Replaces the first occurrence of `from`; the test fails loudly if the fixture changed.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

constexpr uint64_t kAllOf137 = 16376;  // bits 3..13, what a 1.37 child offers with compression
constexpr uint64_t kLabSupported = kAllOf137 - 56;  // a real 1.37 parent, markers removed
constexpr const char* kVersionPrompt = "Hit me baby, push them over with the version=";

TEST(HandshakeEnd, FindsTheBlankLine) {
  const std::string request = fixtureRequest();
  ASSERT_EQ(request.size(), 1405u);
  EXPECT_EQ(handshakeEnd(request), request.size());
  EXPECT_EQ(handshakeEnd(request + "CLAIMED_ID x y\n"), request.size());
  for (size_t cut = 0; cut < request.size(); ++cut) {
    ASSERT_FALSE(handshakeEnd(std::string_view(request).substr(0, cut))) << cut;
  }
  EXPECT_FALSE(handshakeEnd(""));
  EXPECT_EQ(handshakeEnd("\r\n\r\n"), 4u);
}

TEST(HandshakeParse, FixtureFields) {
  std::string error;
  const auto req = parseStreamRequest(fixtureRequest(), &error);
  ASSERT_TRUE(req) << error;
  EXPECT_EQ(req->apiKey, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(req->hostname, "nd-lab-child");
  EXPECT_EQ(req->registryHostname, "nd-lab-child");
  EXPECT_EQ(req->machineGuid, "7e5dc348-e657-11f1-8a35-02fc00000001");
  EXPECT_EQ(req->updateEvery, 1);
  EXPECT_EQ(req->os, "linux");
  EXPECT_EQ(req->timezone, "Etc/UTC");
  EXPECT_EQ(req->abbrevTimezone, "UTC");
  EXPECT_EQ(req->utcOffset, 0);
  EXPECT_EQ(req->hops, 1);
  EXPECT_FALSE(req->mlCapable);
  EXPECT_FALSE(req->mlEnabled);
  EXPECT_EQ(req->tags, "");  // `tags=` is empty and therefore skipped
  ASSERT_TRUE(req->ver);
  EXPECT_EQ(*req->ver, 15352u);
  EXPECT_EQ(req->program, "netdata");
  EXPECT_EQ(req->version, "v1.37.1");
  EXPECT_TRUE(req->unknownParameters.empty());

  const auto& info = req->systemInfo;
  // 27 system-info parameters plus NETDATA_PROTOCOL_VERSION.
  EXPECT_EQ(info.size(), 28u);
  auto at = [&](const std::string& key) {
    const auto it = info.find(key);
    return it == info.end() ? std::string("<missing>") : it->second;
  };
  // An unencoded '+' is a space once the target is URL-decoded, as a real parent stores it.
  EXPECT_EQ(at("NETDATA_SYSTEM_CPU_FREQ"), "2.596e 09");
  // Raw spaces inside values survive because the target ends at " HTTP/", not at a space.
  EXPECT_EQ(at("NETDATA_CONTAINER_OS_NAME"), "Debian GNU/Linux");
  EXPECT_EQ(at("NETDATA_CONTAINER_OS_VERSION"), "12 (bookworm)");
  EXPECT_EQ(at("NETDATA_CONTAINER_OS_VERSION_ID"), "12");
  EXPECT_EQ(at("NETDATA_CONTAINER_OS_DETECTION"), "/etc/os-release");
  EXPECT_EQ(at("NETDATA_INSTANCE_CLOUD_TYPE"), "unknown");
  EXPECT_EQ(at("NETDATA_INSTANCE_CLOUD_INSTANCE_TYPE"), "unknown");
  EXPECT_EQ(at("NETDATA_INSTANCE_CLOUD_INSTANCE_REGION"), "unknown");
  EXPECT_EQ(at("NETDATA_HOST_IS_K8S_NODE"), "false");
  EXPECT_EQ(at("NETDATA_SYSTEM_KERNEL_NAME"), "Linux");
  EXPECT_EQ(at("NETDATA_SYSTEM_KERNEL_VERSION"), "6.18.44-fc-v595");
  EXPECT_EQ(at("NETDATA_SYSTEM_ARCHITECTURE"), "x86_64");
  EXPECT_EQ(at("NETDATA_SYSTEM_VIRTUALIZATION"), "kvm");
  EXPECT_EQ(at("NETDATA_SYSTEM_VIRT_DETECTION"), "systemd-detect-virt");
  EXPECT_EQ(at("NETDATA_SYSTEM_CONTAINER"), "docker");
  EXPECT_EQ(at("NETDATA_SYSTEM_CONTAINER_DETECTION"), "systemd-detect-virt");
  EXPECT_EQ(at("NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT"), "2");
  EXPECT_EQ(at("NETDATA_SYSTEM_TOTAL_RAM"), "25276514304");
  EXPECT_EQ(at("NETDATA_SYSTEM_TOTAL_DISK_SIZE"), "274877906944");
  EXPECT_EQ(at("NETDATA_PROTOCOL_VERSION"), "1.1");
  // NETDATA_SYSTEM_OS_* are stored under Netdata's NETDATA_HOST_OS_* names.
  for (const char* suffix : {"NAME", "ID", "ID_LIKE", "VERSION", "VERSION_ID", "DETECTION"}) {
    EXPECT_EQ(at(std::string("NETDATA_HOST_OS_") + suffix), "unknown") << suffix;
    EXPECT_EQ(info.count(std::string("NETDATA_SYSTEM_OS_") + suffix), 0u) << suffix;
  }
  EXPECT_EQ(at("NETDATA_CONTAINER_OS_ID"), "debian");
  EXPECT_EQ(at("NETDATA_CONTAINER_OS_ID_LIKE"), "unknown");
}

TEST(HandshakeParse, NullErrorPointerIsAccepted) {
  EXPECT_TRUE(parseStreamRequest(fixtureRequest(), nullptr));
  EXPECT_FALSE(parseStreamRequest("GET / HTTP/1.1\r\n\r\n", nullptr));
}

TEST(HandshakeParse, NotAStreamRequest) {
  std::string error;
  EXPECT_FALSE(parseStreamRequest("GET /stream?key=x HTTP/1.1\r\n\r\n", &error));
  EXPECT_EQ(error, "not a STREAM request");
  EXPECT_FALSE(parseStreamRequest("", &error));
  EXPECT_EQ(error, "not a STREAM request");
  EXPECT_FALSE(parseStreamRequest("stream key=a HTTP/1.1\r\n\r\n", &error));
  EXPECT_EQ(error, "not a STREAM request");
}

TEST(HandshakeParse, NoHttpMarker) {
  std::string error;
  const std::string request = replaced(fixtureRequest(), " HTTP/1.1", " XTTP/1.1");
  EXPECT_FALSE(parseStreamRequest(request, &error));
  EXPECT_EQ(error, "no ' HTTP/' in the request line");
  // A " HTTP/" in a later line does not end the request line's target.
  EXPECT_FALSE(parseStreamRequest("STREAM key=a&hostname=b&machine_guid=c\r\nX: HTTP/1.1\r\n\r\n",
                                  &error));
  EXPECT_EQ(error, "no ' HTTP/' in the request line");
}

TEST(HandshakeParse, MissingMandatoryParameters) {
  const std::string request = fixtureRequest();
  struct Case {
    std::string from;
    std::string to;
    std::string error;
  };
  const Case cases[] = {
      {"key=11111111-2222-3333-4444-555555555555&", "", "missing parameter 'key'"},
      {"&hostname=nd-lab-child", "", "missing parameter 'hostname'"},
      {"&machine_guid=7e5dc348-e657-11f1-8a35-02fc00000001", "",
       "missing parameter 'machine_guid'"},
      // An empty value counts as absent.
      {"key=11111111-2222-3333-4444-555555555555&", "key=&", "missing parameter 'key'"},
      {"hostname=nd-lab-child&", "hostname=&", "missing parameter 'hostname'"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parseStreamRequest(replaced(request, c.from, c.to), &error)) << c.from;
    EXPECT_EQ(error, c.error) << c.from;
  }
}

TEST(HandshakeParse, RegistryHostnameFallsBackToHostname) {
  const auto req = parseStreamRequest(
      replaced(fixtureRequest(), "&registry_hostname=nd-lab-child", ""), nullptr);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->registryHostname, "nd-lab-child");
}

TEST(HandshakeParse, DecodingAndOddItems) {
  std::string error;
  const auto req = parseStreamRequest(
      "STREAM key=k%2Dx&hostname=a+b%20c&machine_guid=g&=novalue&noequals&empty=&"
      "tags=%3Dx&hops=3&utc_offset=-3600&ml_capable=1&ml_enabled=1&update_every=2&"
      "bogus=1&NETDATA_X=a%2" " HTTP/1.0\r\nuser-agent:   netdata/v2.11.0 \r\n\r\n",
      &error);
  ASSERT_TRUE(req) << error;
  EXPECT_EQ(req->apiKey, "k-x");
  EXPECT_EQ(req->hostname, "a b c");
  EXPECT_EQ(req->tags, "=x");
  EXPECT_EQ(req->hops, 3);
  EXPECT_EQ(req->utcOffset, -3600);
  EXPECT_TRUE(req->mlCapable);
  EXPECT_TRUE(req->mlEnabled);
  EXPECT_EQ(req->updateEvery, 2);
  EXPECT_FALSE(req->ver);
  EXPECT_EQ(req->systemInfo.at("NETDATA_X"), "a%2");  // a truncated escape stays literal
  EXPECT_EQ(req->program, "netdata");
  EXPECT_EQ(req->version, "v2.11.0");
  ASSERT_EQ(req->unknownParameters.size(), 1u);
  EXPECT_EQ(req->unknownParameters[0], "bogus");
}

TEST(HandshakeParse, EncodedAmpersandSplitsLikeNetdata) {
  // Decoding happens before splitting, so %26 separates items, as in a real parent.
  const auto req =
      parseStreamRequest("STREAM key=a%26hostname=h&machine_guid=g HTTP/1.1\r\n\r\n", nullptr);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->apiKey, "a");
  EXPECT_EQ(req->hostname, "h");
}

// The boundary for untrusted text: a decoded newline in the host name refuses the request
// (without echoing it); other fields come out escaped, so no later log line can be forged.
TEST(HandshakeParse, ControlCharactersAreRefusedOrEscaped) {
  std::string error;
  EXPECT_FALSE(parseStreamRequest(
      "STREAM key=k&hostname=evil%0A2026-11-30%20critical&machine_guid=g HTTP/1.1\r\n\r\n",
      &error));
  EXPECT_EQ(error,
            "parameter 'hostname': the host name has control characters, a backslash or invalid "
            "UTF-8");
  EXPECT_FALSE(parseStreamRequest(
      "STREAM key=k&hostname=h&registry_hostname=r%1B[2J&machine_guid=g HTTP/1.1\r\n\r\n",
      &error));
  const auto req = parseStreamRequest(
      "STREAM key=k%0Aforged&hostname=h&machine_guid=g%0D&os=l%07&tags=t%5C&NETDATA_X%0A=v%0A&"
      "b%0Ad=1 HTTP/1.1\r\nUser-Agent: net\x1b/v1\x7f\r\n\r\n",
      &error);
  ASSERT_TRUE(req) << error;
  EXPECT_EQ(req->apiKey, "k\\x0aforged");
  EXPECT_EQ(req->machineGuid, "g\\x0d");
  EXPECT_EQ(req->os, "l\\x07");
  EXPECT_EQ(req->tags, "t\\\\");
  EXPECT_EQ(req->systemInfo.at("NETDATA_X\\x0a"), "v\\x0a");
  EXPECT_EQ(req->unknownParameters.at(0), "b\\x0ad");
  EXPECT_EQ(req->program, "net\\x1b");
  EXPECT_EQ(req->version, "v1\\x7f");
}

TEST(HandshakeParse, NoUserAgent) {
  const auto req = parseStreamRequest("STREAM key=a&hostname=h&machine_guid=g HTTP/1.1", nullptr);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->program, "");
  EXPECT_EQ(req->version, "");
}

TEST(HandshakeVersion, ExpandNumberedVersions) {
  using namespace cap;
  EXPECT_EQ(expandVersion(std::nullopt, false), kV1);
  EXPECT_EQ(expandVersion(std::nullopt, true), kV1);
  EXPECT_EQ(expandVersion(0, false), kV1);
  EXPECT_EQ(expandVersion(1, true), kV1);
  EXPECT_EQ(expandVersion(2, true), kV2 | kHLabels);
  EXPECT_EQ(expandVersion(3, true), kVN | kHLabels | kClaim);
  EXPECT_EQ(expandVersion(4, true), kVN | kHLabels | kClaim | kCLabels);
  EXPECT_EQ(expandVersion(5, true), kVN | kHLabels | kClaim | kCLabels | kLz4);
  EXPECT_EQ(expandVersion(6, true), 6u);
  EXPECT_EQ(expandVersion(16376, true), 16376u);
}

std::string promptFor(std::optional<uint64_t> ver, uint64_t supported = kLabSupported,
                      bool compression = true) {
  return successPrompt(negotiate(expandVersion(ver, true), supported, compression));
}

TEST(HandshakeVersion, LabConfirmedReplies) {
  const std::string prefix = kVersionPrompt;
  EXPECT_EQ(promptFor(16376), prefix + "16320");
  EXPECT_EQ(promptFor(15352), prefix + "15296");
  EXPECT_EQ(promptFor(5), prefix + "5");
  EXPECT_EQ(promptFor(4), prefix + "4");
  EXPECT_EQ(promptFor(3), prefix + "3");
  EXPECT_EQ(promptFor(2), "Hit me baby, push them over and bring the host labels...");
  EXPECT_EQ(promptFor(std::nullopt), "Hit me baby, push them over...");
  // A v2.x child's unknown high bits are dropped.
  EXPECT_EQ(promptFor(kAllOf137 | (1u << 14) | (1u << 15) | (1u << 18) | (1u << 24)),
            prefix + "16320");
}

TEST(HandshakeVersion, NegotiateStripsMarkersAndHonoursCompression) {
  using namespace cap;
  const uint64_t bridge = kVCaps | kHLabels | kClaim | kCLabels | kFunctions | kReplication |
                          kBinary | kLz4;
  EXPECT_EQ(negotiate(16376, bridge, true), bridge);
  EXPECT_EQ(negotiate(16376, bridge, false), bridge & ~kLz4);
  EXPECT_EQ(negotiate(16376, kVCaps | kHLabels | kClaim | kCLabels | kFunctions, true),
            kVCaps | kHLabels | kClaim | kCLabels | kFunctions);
  // ver=5 without compression is answered as 4.
  EXPECT_EQ(promptFor(5, kLabSupported, false), std::string(kVersionPrompt) + "4");
  EXPECT_EQ(negotiate(expandVersion(2, true), bridge, true), kV2 | kHLabels);
  EXPECT_EQ(negotiate(expandVersion(1, true), bridge, true), kV1);
  // Without VCAPS on the bridge side a bitmask child gets a numbered reply, not V1.
  EXPECT_EQ(successPrompt(negotiate(16376, bridge & ~kVCaps, true)),
            std::string(kVersionPrompt) + "5");
}

TEST(HandshakeVersion, PromptShapes) {
  using namespace cap;
  EXPECT_EQ(successPrompt(kVCaps | kHLabels), std::string(kVersionPrompt) + "192");
  EXPECT_EQ(successPrompt(kVN | kCLabels), std::string(kVersionPrompt) + "4");
  EXPECT_EQ(successPrompt(kVN), std::string(kVersionPrompt) + "3");
  EXPECT_EQ(successPrompt(0), "Hit me baby, push them over...");
  // The child accepts a version prompt only when shorter than prefix + 30 bytes.
  EXPECT_LT(successPrompt(~0ull).size(), std::string(kVersionPrompt).size() + 30);
}

TEST(HandshakeVersion, FixtureRequestNegotiation) {
  // The lab's fake parent echoed the child's mask (15352); a bridge strips the legacy markers,
  // which the child ignores anyway, so both replies select the same features.
  const std::string reply = readFixture("netdata-1.37-parent-to-child.txt");
  EXPECT_EQ(reply.substr(0, std::string(kVersionPrompt).size() + 5),
            std::string(kVersionPrompt) + "15352");
  const auto req = parseStreamRequest(fixtureRequest(), nullptr);
  ASSERT_TRUE(req);
  const uint64_t child =
      expandVersion(req->ver, req->systemInfo.count("NETDATA_PROTOCOL_VERSION") > 0);
  EXPECT_EQ(successPrompt(negotiate(child, kAllOf137, true)),
            std::string(kVersionPrompt) + "15296");
}

}  // namespace
}  // namespace aclkd::stream_bridge
