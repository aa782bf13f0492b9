"""Broker frozen (SIGSTOP) → `disconnected, ping timed out`, then recovery. About three minutes:
it waits for the keepalive cycle, so it carries the ctest label `slow` (it still runs in CI)."""

import os
import time
import unittest

from test_03_link import LinkTestBase
from harness import wait_for


@unittest.skipIf(os.environ.get("ACLKD_SKIP_SLOW"), "slow test skipped on request")
class PingTimeoutTest(LinkTestBase):
    def test_broker_frozen_gives_ping_timed_out(self):
        gw = self.online_gateway()
        cid = self.claimed_id(gw)
        # The link's transport sends PINGREQ after 45 s without an outbound packet and gives up
        # 60 s after an unanswered PINGREQ (docs/protocol/aclk.md §5.9).
        # Freeze the broker just before the next PINGREQ is due, so that the measured time is
        # "no PINGRESP within 60 s" and not the idle wait in front of it.
        last_ping = wait_for(lambda: self.broker.last_pingreq(cid), 75, what="a PINGREQ")
        due = last_ping + 45
        time.sleep(max(0.0, due - 3 - time.time()))
        self.broker.freeze()
        frozen = time.time()
        try:
            self.wait_status(gw, "disconnected, ping timed out", timeout=80)
            took = time.time() - frozen
            since_ping = time.time() - due  # the unanswered PINGREQ left at `due`
            print(f"ping timed out {took:.1f} s after the freeze, {since_ping:.1f} s after the "
                  "PINGREQ")
            self.assertGreaterEqual(since_ping, 60.0)
            self.assertLessEqual(since_ping, 75.0)
        finally:
            self.broker.thaw()
        self.wait_online(gw, timeout=60)


if __name__ == "__main__":
    unittest.main()
