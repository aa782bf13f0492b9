// The agents' alert API answers, from real 1.37 and v2.10.4 agents (tests/fixtures/alerts).
#include "alerts/alert_log_parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace aclkd::alerts {
namespace {

using aclk::AlarmStatus;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ACLKD_SOURCE_DIR) + "/tests/fixtures/alerts/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AlertLogParserTest, V1AlarmLogComesOldestFirstWithDerivedConfigHashes) {
  std::vector<aclk::AlarmEntry> entries;
  std::string error;
  ASSERT_TRUE(parseV1AlarmLog(fixture("netdata-1.37-alarm_log.json"), &entries, &error)) << error;
  ASSERT_EQ(entries.size(), 5u);
  for (size_t i = 1; i < entries.size(); ++i) EXPECT_LT(entries[i - 1].cursor, entries[i].cursor);
  const auto& raised = entries[1];  // the second oldest: the alert's WARNING
  EXPECT_EQ(raised.name, "aclkd_always_raised");
  EXPECT_EQ(raised.chart, "system.cpu");
  EXPECT_EQ(raised.key, "system.cpu.aclkd_always_raised");
  EXPECT_EQ(raised.status, AlarmStatus::kWarning);
  EXPECT_EQ(raised.oldStatus, AlarmStatus::kUnknown);  // UNINITIALIZED
  EXPECT_EQ(raised.cursor, 1796507728u);
  EXPECT_GT(raised.when, 0u);
  EXPECT_EQ(raised.chartContext, "system.cpu");
  // 1.37 gives zeros: the derived hash is a UUID, the same for both transitions of the alert.
  EXPECT_FALSE(isZeroHash(raised.configHash));
  EXPECT_EQ(raised.configHash.size(), 36u);
  EXPECT_EQ(raised.configHash, entries[0].configHash);
  EXPECT_NE(raised.configHash, entries[4].configHash);
  EXPECT_EQ(entries[2].status, AlarmStatus::kNotANumber);  // UNDEFINED
}

TEST(AlertLogParserTest, V1AlarmsAllDerivesTheSameHashAsTheLog) {
  std::vector<aclk::AlarmEntry> entries;
  std::vector<AgentAlarm> alarms;
  std::string error;
  ASSERT_TRUE(parseV1AlarmLog(fixture("netdata-1.37-alarm_log.json"), &entries, &error));
  ASSERT_TRUE(parseAlarmsAll(fixture("netdata-1.37-alarms.json"), &alarms, &error)) << error;
  const AgentAlarm* always = nullptr;
  for (const auto& a : alarms) {
    if (a.key == "system.cpu.aclkd_always_raised") always = &a;
  }
  ASSERT_NE(always, nullptr);
  EXPECT_FALSE(always->agentHash);
  EXPECT_EQ(always->configHash, entries[1].configHash);
  EXPECT_EQ(always->config.alarm, "aclkd_always_raised");
  EXPECT_EQ(always->config.onChart, "system.cpu");
  EXPECT_EQ(always->config.warning, "$this >= 0");  // unescaped
  EXPECT_EQ(always->config.lookup, "average -10s unaligned of user");
  EXPECT_EQ(always->config.every, "5s");
}

TEST(AlertLogParserTest, V2TransitionsAndConfig) {
  std::vector<aclk::AlarmEntry> entries;
  std::string error;
  ASSERT_TRUE(parseV2Transitions(fixture("netdata-2.10.4-alert_transitions.json"), &entries,
                                 &error))
      << error;
  ASSERT_EQ(entries.size(), 2u);  // the test's alert and a stock one that was raised
  EXPECT_LT(entries[0].cursor, entries[1].cursor);
  const auto& e = entries[0].name == "aclkd_always_raised" ? entries[0] : entries[1];
  EXPECT_EQ(e.name, "aclkd_always_raised");
  EXPECT_EQ(e.chart, "system.cpu");
  EXPECT_EQ(e.status, AlarmStatus::kWarning);
  EXPECT_EQ(e.configHash, "1b2e1dcd-74ae-46e3-997e-3d16c46e323f");
  EXPECT_FALSE(e.transitionId.empty());
  EXPECT_GT(e.cursor, e.when);  // gi: microseconds
  std::vector<AgentAlarm> alarms;
  ASSERT_TRUE(parseAlarmsAll(fixture("netdata-2.10.4-alarms.json"), &alarms, &error));
  ASSERT_FALSE(alarms.empty());
  EXPECT_TRUE(alarms[0].agentHash);
  aclk::AlarmConfig c;
  ASSERT_TRUE(parseV2AlertConfig(fixture("netdata-2.10.4-alert_config.json"), &c, &error)) << error;
  EXPECT_EQ(c.alarm, "aclkd_always_raised");
  EXPECT_EQ(c.onChart, "system.cpu");
  EXPECT_EQ(c.warning, "$this >= 0");
  EXPECT_EQ(c.lookupMethod, "average");
  EXPECT_EQ(c.lookupAfter, -10);
}

TEST(AlertLogParserTest, UntrustedAnswersAreErrorsNotCrashes) {
  std::vector<aclk::AlarmEntry> entries;
  std::vector<AgentAlarm> alarms;
  aclk::AlarmConfig c;
  std::string error;
  for (const char* bad : {"", "{", "null", "42", "\"x\"", "{\"transitions\": 5}"}) {
    error.clear();
    EXPECT_FALSE(parseV2Transitions(bad, &entries, &error)) << bad;
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(parseAlarmsAll(bad, &alarms, &error)) << bad;
    EXPECT_FALSE(parseV2AlertConfig(bad, &c, &error)) << bad;
  }
  EXPECT_FALSE(parseV1AlarmLog("{}", &entries, &error));
  // Wrong types read as absent; rows without name, chart or id are skipped.
  ASSERT_TRUE(parseV1AlarmLog(R"([1, {"name": 5}, {"name": "a", "chart": "c", "unique_id": "7",
      "when": -3, "value": "x", "silenced": "true", "status": {}}])", &entries, &error));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].cursor, 7u);
  EXPECT_EQ(entries[0].when, 0u);
  EXPECT_TRUE(entries[0].silenced);
  EXPECT_EQ(entries[0].status, AlarmStatus::kNull);
}

TEST(AlertLogParserTest, DerivedHashIsStableAndFieldBoundariesCount) {
  EXPECT_EQ(derivedConfigHash({"ab", "c"}), derivedConfigHash({"ab", "c"}));
  EXPECT_NE(derivedConfigHash({"ab", "c"}), derivedConfigHash({"a", "bc"}));
  EXPECT_TRUE(isZeroHash("00000000-0000-0000-0000-000000000000"));
}

}  // namespace
}  // namespace aclkd::alerts
