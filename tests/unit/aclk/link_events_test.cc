// The link's event queue: order, the deadline of a wait, a push from another thread, and the
// weak push of threads that may outlive the link.
#include "aclk/link_events.h"

#include <gtest/gtest.h>

#include <thread>

namespace aclkd::aclk {
namespace {

using namespace std::chrono_literals;
using Clock = LinkEvents::Clock;

constexpr auto kWait = 10s;  // an upper bound for things that happen "soon"; never a timing claim

MqttEvent message(std::string topic) {
  MqttEvent e;
  e.kind = MqttEvent::Kind::kMessage;
  e.text = std::move(topic);
  return e;
}

TEST(LinkEventsTest, EventsComeOutInTheOrderTheyWentIn) {
  LinkEvents events;
  events.push(message("a"));
  events.push(LinkCommand::kReload);
  events.push(message("b"));
  auto first = events.pop(Clock::now());
  ASSERT_TRUE(first);
  EXPECT_EQ(std::get<MqttEvent>(*first).text, "a");
  auto second = events.pop(Clock::now());
  ASSERT_TRUE(second);
  EXPECT_EQ(std::get<LinkCommand>(*second), LinkCommand::kReload);
  auto third = events.pop(Clock::now());
  ASSERT_TRUE(third);
  EXPECT_EQ(std::get<MqttEvent>(*third).text, "b");
}

TEST(LinkEventsTest, AnEmptyQueueGivesNothingOnceTheDeadlinePassed) {
  LinkEvents events;
  const auto deadline = Clock::now() + 20ms;
  EXPECT_FALSE(events.pop(deadline));
  EXPECT_GE(Clock::now(), deadline);
}

TEST(LinkEventsTest, APushFromAnotherThreadWakesAWaitingPop) {
  LinkEvents events;
  std::thread pusher([&] {
    std::this_thread::sleep_for(20ms);
    events.push(LinkCommand::kStop);
  });
  auto e = events.pop(Clock::now() + kWait);
  pusher.join();
  ASSERT_TRUE(e);
  EXPECT_EQ(std::get<LinkCommand>(*e), LinkCommand::kStop);
}

TEST(LinkEventsTest, AWeakPushDeliversWhileTheQueueLivesAndDropsAfterwards) {
  auto events = std::make_shared<LinkEvents>();
  auto push = LinkEvents::weakPush(events);
  CmdRequests::Answer answer;
  answer.msgId = "m1";
  push(answer);
  auto e = events->pop(Clock::now());
  ASSERT_TRUE(e);
  EXPECT_EQ(std::get<CmdRequests::Answer>(*e).msgId, "m1");
  EXPECT_EQ(events.use_count(), 1) << "the push does not keep the queue alive";

  events.reset();  // the link is gone
  push(answer);    // a late completion: dropped, nothing to reach
}

}  // namespace
}  // namespace aclkd::aclk
