#include "daemon/reload_diff.h"

#include <gtest/gtest.h>

namespace aclkd::daemon {
namespace {

ConfigValues values(const std::string& logLevel, const std::string& bindTo) {
  ConfigValues v;
  v.set("global", "log level", logLevel, "aclkd.conf:1");
  v.set("web", "bind to", bindTo, "aclkd.conf:2");
  return v;
}

TEST(ReloadDiffTest, NothingChangedNothingToSay) {
  const auto diff = diffReload(values("info", "*:19999"), "info", values("info", "*:19999"));
  EXPECT_TRUE(diff.applied.empty());
  EXPECT_TRUE(diff.restart.empty());
  EXPECT_FALSE(diff.logLevel);
  EXPECT_EQ(reloadSummary(diff.applied, diff.restart), "reloaded");
}

TEST(ReloadDiffTest, TheLogLevelAppliesTheRestWaitsForARestart) {
  const auto diff = diffReload(values("info", "*:19999"), "info", values("debug", "*:20000"));
  EXPECT_EQ(diff.applied, (std::vector<std::string>{"[global] log level"}));
  EXPECT_EQ(diff.restart, (std::vector<std::string>{"[web] bind to"}));
  EXPECT_EQ(diff.logLevel, "debug");
}

TEST(ReloadDiffTest, TheLogLevelComparesWithTheRunningOneTheRestWithTheStart) {
  // A reload already applied `debug`; the file still says debug: nothing to apply. `bind to`
  // differs from the start: said again at every reload until a restart.
  const auto diff = diffReload(values("info", "*:19999"), "debug", values("debug", "*:20000"));
  EXPECT_TRUE(diff.applied.empty());
  EXPECT_FALSE(diff.logLevel);
  EXPECT_EQ(diff.restart, (std::vector<std::string>{"[web] bind to"}));
}

TEST(ReloadDiffTest, TheSummaryListsBoth) {
  EXPECT_EQ(reloadSummary({"a", "b"}, {"c", "d"}), "reloaded: applied a, b; needs a restart: c, d");
  EXPECT_EQ(reloadSummary({}, {"c"}), "reloaded; needs a restart: c");
}

}  // namespace
}  // namespace aclkd::daemon
