#include "common/thread_priority.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace aclkd {
namespace {

TEST(ThreadPriority, ABulkThreadRunsUnderSchedBatchAndOnlyItself) {
  int policy = -1;
  std::thread bulk([&policy] {
    runAsBulkThread();
    policy = sched_getscheduler(0);
  });
  bulk.join();
  EXPECT_EQ(policy, SCHED_BATCH);
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER) << "the caller's own policy is untouched";
}

}  // namespace
}  // namespace aclkd
