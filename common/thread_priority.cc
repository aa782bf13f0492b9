#include "common/thread_priority.h"

#include <sched.h>

namespace aclkd {

void runAsBulkThread() {
  // Linux: the policy is the calling thread's own (0 = this thread).
  sched_param param{};
  (void)::sched_setscheduler(0, SCHED_BATCH, &param);
}

}  // namespace aclkd
