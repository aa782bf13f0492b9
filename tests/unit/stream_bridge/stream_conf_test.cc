#include "stream_bridge/stream_conf.h"

#include <gtest/gtest.h>

namespace aclkd::stream_bridge {
namespace {

constexpr const char* kKey = "11111111-2222-3333-4444-555555555555";
constexpr const char* kGuid = "7e5dc348-e657-11f1-8a35-02fc00000001";

StreamConf parse(const std::string& text, std::vector<std::string>* warnings = nullptr,
                 std::vector<std::string>* errors = nullptr) {
  std::vector<std::string> w, e;
  auto conf = StreamConf::parse(text, "stream.conf", warnings ? warnings : &w,
                                errors ? errors : &e);
  if (!conf) ADD_FAILURE() << "parse failed: " << (e.empty() ? "" : e[0]);
  return conf ? *conf : StreamConf{};
}

TEST(StreamConfTest, RefusalsInNetdatasOrderWithItsWords) {
  const auto conf = parse(std::string("[") + kKey + "]\n    enabled = yes\n    allow from = 10.*\n");
  auto d = conf.check("not-a-guid", kGuid, "10.0.0.1");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reply, kReplyNotPermitted);
  EXPECT_EQ(d.log, "API key 'not-a-guid' is not valid GUID (use the command uuidgen to generate "
                   "one). Forbidding access.");
  d = conf.check(kKey, "nope", "10.0.0.1");
  EXPECT_EQ(d.log, "machine GUID 'nope' is not GUID.");
  d = conf.check("99999999-2222-3333-4444-555555555555", kGuid, "10.0.0.1");
  EXPECT_EQ(d.log, "API key '99999999-2222-3333-4444-555555555555' is not allowed. Forbidding "
                   "access.");
  d = conf.check(kKey, kGuid, "127.0.0.1");
  EXPECT_EQ(d.log, std::string("API key '") + kKey +
                       "' is not permitted from this IP '127.0.0.1'. Forbidding access.");
  d = conf.check(kKey, kGuid, "10.0.0.1");
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.reply.empty());
}

TEST(StreamConfTest, QuerySettingsGuidSectionWinsOverKey) {
  std::vector<std::string> warnings;
  const auto conf = parse(std::string("[") + kKey + "]\n    enabled = yes\n" +
                              "    query url = http://10.1.2.3:19999\n    allow queries = no\n" +
                              "    ca file = /etc/ca.pem\n[" + kGuid + "]\n" +
                              "    query url = https://10.1.2.9:19999\n    insecure = yes\n",
                          &warnings);
  EXPECT_TRUE(warnings.empty());
  auto q = conf.querySettings(kKey, kGuid);
  EXPECT_EQ(q.keyQueryUrl, "http://10.1.2.3:19999");
  EXPECT_EQ(q.guidQueryUrl, "https://10.1.2.9:19999");
  EXPECT_FALSE(q.allowQueries);
  EXPECT_EQ(q.caFile, "/etc/ca.pem");
  EXPECT_TRUE(q.insecure);
  q = conf.querySettings(kKey, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
  EXPECT_TRUE(q.guidQueryUrl.empty());
  EXPECT_FALSE(q.insecure);
  q = conf.querySettings("99999999-2222-3333-4444-555555555555", kGuid);
  EXPECT_TRUE(q.keyQueryUrl.empty());
  EXPECT_TRUE(q.allowQueries);
}

TEST(StreamConfTest, QueryUrlMustBeHttp) {
  std::vector<std::string> warnings, errors;
  EXPECT_FALSE(StreamConf::parse(std::string("[") + kKey + "]\n    query url = ftp://x\n",
                                 "stream.conf", &warnings, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("query url = 'ftp://x': not an http:// or https:// URL"), std::string::npos);
}

TEST(StreamConfTest, MachineGuidSections) {
  const auto conf = parse(std::string("[") + kKey + "]\n enabled = yes\n[" + kGuid +
                          "]\n allow from = 192.168.*\n");
  EXPECT_EQ(conf.check(kKey, kGuid, "10.0.0.1").log,
            std::string("Machine GUID '") + kGuid +
                "' is not permitted from this IP '10.0.0.1'. Forbidding access.");
  const auto disabled =
      parse(std::string("[") + kKey + "]\n enabled = yes\n[" + kGuid + "]\n enabled = no\n");
  EXPECT_EQ(disabled.check(kKey, kGuid, "10.0.0.1").log,
            std::string("machine GUID '") + kGuid + "' is not allowed. Forbidding access.");
}

TEST(StreamConfTest, DefaultsAKeyIsOffAndAnEmptyFileRefusesAll) {
  EXPECT_FALSE(parse(std::string("[") + kKey + "]\n allow from = *\n").check(kKey, kGuid, "1.1.1.1")
                   .allowed);
  EXPECT_FALSE(parse("").check(kKey, kGuid, "1.1.1.1").allowed);
  EXPECT_TRUE(parse(std::string("[") + kKey + "]\n enabled = yes\n allow from =\n")
                  .check(kKey, kGuid, "1.1.1.1")
                  .allowed)
      << "an empty allow from allows all";
}

TEST(StreamConfTest, PolicyMachineGuidWinsOverKey) {
  const auto conf = parse(std::string("[") + kKey +
                          "]\n enabled = yes\n send charts matching = system.*\n"
                          " is ephemeral node = yes\n[" +
                          kGuid + "]\n send charts matching = apps.*\n");
  auto p = conf.policy(kKey, kGuid);
  EXPECT_TRUE(p.sendChartsMatching.matches("apps.cpu"));
  EXPECT_FALSE(p.sendChartsMatching.matches("system.cpu"));
  EXPECT_TRUE(p.ephemeral);
  p = conf.policy(kKey, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
  EXPECT_TRUE(p.sendChartsMatching.matches("system.cpu"));
  p = parse("").policy(kKey, kGuid);
  EXPECT_TRUE(p.sendChartsMatching.matches("anything")) << "default *";
  EXPECT_FALSE(p.ephemeral);
}

TEST(StreamConfTest, ErrorsAndWarningsNameFileAndLine) {
  std::vector<std::string> warnings, errors;
  auto conf = StreamConf::parse(std::string("[stream]\n enabled = yes\n destination = x\n[") + kKey +
                                    "]\n enabled = maybe\n",
                                "stream.conf", &warnings, &errors);
  EXPECT_FALSE(conf);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], std::string("stream.conf:5: [") + kKey +
                           "] enabled = 'maybe': expected a boolean (yes, no, true, false, on, "
                           "off, 1, 0)");
  errors.clear();
  conf = StreamConf::parse("[not-a-uuid]\n enabled = yes\n", "stream.conf", &warnings, &errors);
  EXPECT_FALSE(conf);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("stream.conf:2:"), std::string::npos) << errors[0];
  errors.clear();
  conf = StreamConf::parse(std::string("[") + kKey +
                               "]\n enabled = yes\n default history = 3600\n colour = blue\n",
                           "stream.conf", &warnings, &errors);
  ASSERT_TRUE(conf);
  ASSERT_EQ(warnings.size(), 1u) << "known Netdata options are accepted silently";
  EXPECT_EQ(warnings[0], std::string("stream.conf:4: unknown option 'colour' in section [") +
                             kKey + "]");
}

TEST(StreamConfTest, SectionNamesAreCaseInsensitive) {
  const auto conf = parse("[11111111-2222-3333-4444-55555555555A]\n enabled = yes\n");
  EXPECT_TRUE(conf.check("11111111-2222-3333-4444-55555555555a", kGuid, "1.1.1.1").allowed);
}

}  // namespace
}  // namespace aclkd::stream_bridge

namespace aclkd::stream_bridge {
namespace {

std::string names(const std::vector<Compression>& order) {
  std::string out;
  for (const auto c : order) out += (out.empty() ? "" : " ") + std::string(compressionName(c));
  return out;
}

TEST(StreamConfTest, CompressionPerKeyAndPerGuid) {
  constexpr const char* kOther = "22222222-2222-3333-4444-555555555555";
  const auto conf = parse(std::string("[") + kKey +
                          "]\n enabled = yes\n enable compression = no\n"
                          "[" + kGuid + "]\n enable compression = yes\n"
                          " compression algorithms order = gzip BROTLI\n"
                          "[" + kOther + "]\n enabled = yes\n"
                          " compression algorithms order = lz4\n");
  // The GUID's section wins over its key's.
  EXPECT_EQ(names(conf.compressionOrder(kKey, kGuid, true)), "gzip brotli zstd lz4");
  // The key's own: off, whatever the default.
  EXPECT_EQ(names(conf.compressionOrder(kKey, "33333333-2222-3333-4444-555555555555", true)), "");
  // The key's order, the others after it in Netdata's order.
  EXPECT_EQ(names(conf.compressionOrder(kOther, "33333333-2222-3333-4444-555555555555", true)),
            "lz4 zstd brotli gzip");
  // Nothing set: the default (aclkd.conf [stream] enable compression).
  const auto empty = parse("");
  EXPECT_EQ(names(empty.compressionOrder(kKey, kGuid, true)), "zstd lz4 brotli gzip");
  EXPECT_EQ(names(empty.compressionOrder(kKey, kGuid, false)), "");
}

TEST(StreamConfTest, UnknownCompressionAlgorithmIsAnErrorWithFileAndLine) {
  std::vector<std::string> warnings, errors;
  const auto conf = StreamConf::parse(std::string("[") + kKey +
                                          "]\n enabled = yes\n compression algorithms order = "
                                          "zstd xz\n",
                                      "stream.conf", &warnings, &errors);
  EXPECT_FALSE(conf);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], std::string("stream.conf:3: [") + kKey +
                           "] compression algorithms order = 'zstd xz': unknown compression "
                           "algorithm 'xz' (known: zstd lz4 brotli gzip)");
  EXPECT_TRUE(warnings.empty());
}

}  // namespace
}  // namespace aclkd::stream_bridge
