// The stored form of an alert's last transition sent.
#include "alerts/entry_json.h"

#include <gtest/gtest.h>

namespace aclkd::alerts {
namespace {

TEST(EntryJsonTest, RoundTripsEveryFieldAndRefusesDamagedRows) {
  aclk::AlarmEntry e;
  e.key = "system.cpu.a";
  e.name = "a";
  e.chart = "system.cpu";
  e.when = 1700000000;
  e.cursor = 1700000000123456;
  e.status = aclk::AlarmStatus::kCritical;
  e.oldStatus = aclk::AlarmStatus::kWarning;
  e.value = 12.5;
  e.silenced = true;
  e.configHash = "h";
  const auto back = entryFromJson(entryToJson(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->key, e.key);
  EXPECT_EQ(back->when, e.when);
  EXPECT_EQ(back->cursor, e.cursor);
  EXPECT_EQ(back->status, e.status);
  EXPECT_EQ(back->oldStatus, e.oldStatus);
  EXPECT_DOUBLE_EQ(back->value, 12.5);
  EXPECT_TRUE(back->silenced);
  EXPECT_EQ(back->configHash, "h");
  EXPECT_FALSE(entryFromJson("garbage"));
  EXPECT_FALSE(entryFromJson(R"({"key": 5})"));
  EXPECT_FALSE(entryFromJson(R"({"key": "k", "status": 99})"));
  EXPECT_FALSE(entryFromJson(R"({"when": 1})"));
}

}  // namespace
}  // namespace aclkd::alerts
