#include "stream_bridge/escaping_events.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aclkd::stream_bridge {
namespace {

// What reaches the registry, one line per event.
class Recorder : public StreamEvents {
 public:
  std::vector<std::string> seen;
  void onHostLabel(std::string_view n, std::string_view v, uint32_t) override {
    seen.push_back("label " + std::string(n) + "=" + std::string(v));
  }
  void onChart(const ChartDefinition& c) override {
    seen.push_back("chart " + std::string(c.id) + " " + std::string(c.title));
  }
  void onDimension(std::string_view c, const DimensionDefinition& d) override {
    seen.push_back("dim " + std::string(c) + " " + std::string(d.id) + " " + std::string(d.name));
  }
  void onSamples(std::string_view c, int64_t t) override {
    seen.push_back("samples " + std::string(c) + " " + std::to_string(t));
  }
};

class Forwarder : public EscapingEvents {
 public:
  using EscapingEvents::forwardTo;
};

TEST(EscapingEventsTest, CleanTextPassesAsItIsAndControlCharactersAreEscaped) {
  Recorder to;
  Forwarder f;
  f.forwardTo(&to);
  f.onHostLabel("_os", "linux", 1);
  f.onHostLabel("evil\nkey", "v\x1b[31m", 1);
  ChartDefinition c;
  c.id = "system.cpu";
  c.title = "CPU\r\n2026-11-30 forged";
  f.onChart(c);
  DimensionDefinition d;
  d.id = "user";
  d.name = "us\ter";
  f.onDimension("system.cpu", d);
  f.onSamples("a\nb", 7);
  ASSERT_EQ(to.seen.size(), 5u);
  EXPECT_EQ(to.seen[0], "label _os=linux");
  for (const auto& line : to.seen) {
    for (char ch : line) EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20) << line;
  }
  EXPECT_NE(to.seen[1].find("evil\\x0akey"), std::string::npos) << to.seen[1];
  EXPECT_EQ(to.seen[2].find("chart system.cpu CPU"), 0u) << to.seen[2];
  EXPECT_EQ(to.seen[3].find("dim system.cpu user us"), 0u) << to.seen[3];
}

TEST(EscapingEventsTest, NothingIsForwardedOnceTheTargetIsGone) {
  Recorder to;
  Forwarder f;
  f.forwardTo(&to);
  f.onSamples("system.cpu", 1);
  f.forwardTo(nullptr);
  f.onSamples("system.cpu", 2);
  f.onHostLabel("a", "b", 1);
  EXPECT_EQ(to.seen, std::vector<std::string>{"samples system.cpu 1"});
}

}  // namespace
}  // namespace aclkd::stream_bridge
