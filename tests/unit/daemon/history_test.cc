#include "daemon/history.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aclkd::daemon {
namespace {

HistoryFigures at(std::time_t t) {
  HistoryFigures f;
  f.now = t;
  f.steadySeconds = static_cast<double>(t);
  f.linkOnline = true;
  f.linkStatus = "online";
  return f;
}

TEST(HistoryTest, RatesFromTotalsGaugesAsGiven) {
  History h(10, 4);
  h.record({.now = 100, .steadySeconds = 100, .childrenOnline = 2, .streaming = 1,
            .samplesTotal = 1000, .streamBytesTotal = 5000, .linkStatus = "online",
            .publishLatencyUs = 2500,
            .pendingPubacks = 4, .queriesTotal = 3, .callsTotal = 7});
  // Two seconds later: rates are per second of real time.
  h.record({.now = 102, .steadySeconds = 102, .childrenOnline = 3, .streaming = 2,
            .samplesTotal = 1600, .streamBytesTotal = 9000, .linkStatus = "online", .queriesTotal = 7,
            .queryFailuresTotal = 2, .callsTotal = 9, .callFailuresTotal = 1,
            .alertTransitionsTotal = 6, .alertNodesRelayed = 2});
  const auto p = h.points();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].t, 100);
  EXPECT_EQ(p[0].samplesPerSecond, 0) << "no rate without a previous total";
  EXPECT_EQ(p[0].pubackLatencyMs, 2.5);
  EXPECT_EQ(p[0].pendingPubacks, 4u);
  EXPECT_EQ(p[1].t, 102);
  EXPECT_EQ(p[1].samplesPerSecond, 300);
  EXPECT_EQ(p[1].bytesPerSecond, 2000);
  EXPECT_EQ(p[1].queriesPerSecond, 2);
  EXPECT_EQ(p[1].queryFailuresPerSecond, 1);
  EXPECT_EQ(p[1].callsPerSecond, 1);
  EXPECT_EQ(p[1].callFailuresPerSecond, 0.5);
  EXPECT_EQ(p[1].alertTransitionsPerSecond, 3);
  EXPECT_EQ(p[1].alertNodesRelayed, 2u);
  EXPECT_EQ(p[1].childrenOnline, 3u);
  EXPECT_EQ(p[1].streaming, 2u);
  // A total that went backwards is no negative rate.
  h.record({.now = 103, .steadySeconds = 103, .samplesTotal = 10, .linkStatus = "online"});
  EXPECT_EQ(h.points(1)[0].samplesPerSecond, 0);
}

TEST(HistoryTest, LinkEventsMarkStatusChangesAndReconnects) {
  History h(10, 4);
  h.record(at(1));
  h.record(at(2));  // unchanged: no event
  auto f = at(3);
  f.linkOnline = false;
  f.linkStatus = "offline: connection lost";
  h.record(f);
  f = at(4);
  f.reconnects = 1;
  h.record(f);
  const auto e = h.events();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].t, 1);
  EXPECT_FALSE(e[0].reconnect);
  EXPECT_EQ(e[1].status, "offline: connection lost");
  EXPECT_FALSE(e[1].online);
  EXPECT_EQ(e[2].t, 4);
  EXPECT_TRUE(e[2].reconnect);
  EXPECT_TRUE(e[2].online);
}

TEST(HistoryTest, JsonWholeOnSubscribeNewestOnPush) {
  History h(100, 8);
  for (std::time_t t = 1; t <= 20; ++t) {
    auto f = at(t);
    if (t == 18) f.linkStatus = "offline: \xff bad byte";  // not UTF-8: replaced, never thrown
    h.record(f);
  }
  const auto whole = nlohmann::json::parse(h.json());
  EXPECT_EQ(whole["points"].size(), 20u);
  EXPECT_EQ(whole["fields"].size(), whole["points"][0].size());
  EXPECT_EQ(whole["fields"][0], "t");
  EXPECT_EQ(whole["events"].size(), 3u);  // start, the bad status, back online
  const auto push = nlohmann::json::parse(h.json(5));
  ASSERT_EQ(push["points"].size(), 5u);
  EXPECT_EQ(push["points"][0][0], 16);
  EXPECT_EQ(push["points"][4][0], 20);
  EXPECT_EQ(push["events"].size(), 2u) << "only the events of the pushed seconds";
}

// The bound the issue asks for: a day of points and a link that changes its status every second
// with long strings leave the buffer at its capacity, within memoryBound(), and the bound is the
// size of an hour of plain numbers (well under a megabyte).
TEST(HistoryTest, MemoryIsBoundedWhateverTheLinkDoes) {
  History h;
  EXPECT_LE(h.memoryUsed(), h.memoryBound());
  size_t afterAnHour = 0;
  for (std::time_t t = 0; t < 86400; ++t) {
    auto f = at(t);
    f.reconnects = static_cast<uint64_t>(t);
    f.linkStatus = std::string(1000, 'a' + static_cast<char>(t % 26));
    f.samplesTotal = static_cast<uint64_t>(t) * 1000;
    h.record(f);
    if (t == 3600) afterAnHour = h.memoryUsed();
  }
  EXPECT_EQ(h.points().size(), History::kDefaultPoints);
  EXPECT_EQ(h.events().size(), History::kDefaultEvents);
  EXPECT_EQ(h.points().front().t, 86400 - 3600) << "the oldest points gave way";
  EXPECT_EQ(h.points().back().t, 86399);
  EXPECT_EQ(h.events().back().status.size(), History::kMaxStatusBytes);
  EXPECT_LE(h.memoryUsed(), h.memoryBound());
  EXPECT_EQ(h.memoryUsed(), afterAnHour) << "no growth after the first hour: rings allocated once";
  EXPECT_LT(h.memoryBound(), 1024u * 1024u);
}

}  // namespace
}  // namespace aclkd::daemon
