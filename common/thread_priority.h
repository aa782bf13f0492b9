#pragma once

namespace aclkd {

// The bulk threads (the stream loops, the state store's writer) run under SCHED_BATCH; the
// threads an operator or a child waits on (the front loop: accepts, handshakes, HTTP; the control
// socket; the link) keep the default policy. On a busy machine (a reconnect storm of 10,000
// children fills two cores with definitions to parse and rows to write) a request that wakes the
// front loop then runs at once instead of after the bulk threads' time slices; the bulk work can
// be late by a second without harm (samples wait in the kernel's socket buffers, rows in the
// store's queue). SCHED_BATCH keeps its nice value, so the bulk threads still get their fair
// share of the CPU against other processes: a nice of 10 was tried and starved them behind the
// load generator (closes handled so late that a storm's reconnects hit the connection limit).
// Any thread may choose SCHED_BATCH (no privilege); a failure leaves the default policy.
void runAsBulkThread();

}  // namespace aclkd
