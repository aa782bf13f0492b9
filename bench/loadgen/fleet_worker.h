#pragma once

// One thread of the load generator: a share of the children, each a non-blocking socket in the
// thread's one epoll set, driven through the run's phases by one timerfd.
//
// Why this shape: 10,000 children at the captured pace are ~100,000 writes a second of ~2 KiB.
// Per child the thread keeps only a small state and offsets into the one Capture, so memory
// does not grow with the capture; a write is one send() of a shared slice, and a tick wakes the
// thread once for all its children (not once per child), so the generator's own CPU stays a
// small fraction of a core and the figures show the gateway's cost, not the sender's.
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/loadgen/capture.h"

namespace aclkd::bench {

enum class LoadMode { kPace, kMax };

struct LoadOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  size_t children = 1;
  int threads = 1;
  LoadMode mode = LoadMode::kPace;
  double seconds = 10;
  int slots = 1;               // pace: each tick cut in `slots`; child i writes in slot i % slots
  int connectWindow = 64;      // handshakes in flight while the fleet first connects
  double replyTimeout = 60;    // a child gives up on a handshake reply (1.37's `timeout seconds`)
  double reconnectDelay = 1;   // after a refusal, a timeout or a lost stream
  // Storm: `stormRounds` times, `stormFraction` of the children drop (RST) and reconnect at once,
  // at stormFirst, stormFirst + stormEvery, ... seconds into the steady phase.
  int stormRounds = 0;
  double stormFirst = 5;
  double stormEvery = 20;
  double stormFraction = 1;
  uint64_t runTag = 0;
  // SO_SNDBUF of each child's socket (0: the kernel's autotuning). The generator shares its
  // kernel with the parent, so what a child has written and the parent not yet read is counted
  // twice against the host's TCP memory (net.ipv4.tcp_mem) where a remote child's would be in
  // its own kernel: 10,000 children reconnecting at once write 2.8 GB of definitions, and the
  // host drops packets of every socket, the API's too, once past the limit. A small buffer keeps
  // what the parent does not take yet in this process, as a remote child keeps it in its host.
  int sendBuffer = 0;
};

// The phases the main thread moves the workers through (the workers move on by themselves
// from kConnect to kDefined, and from kSteady to kStopped).
struct FleetControl {
  std::atomic<int64_t> steadyStartNs{0};  // set once: the steady phase's first tick
  std::atomic<bool> release{false};       // close every socket and return
};

// One handshake round: the first connect, or one storm round.
struct RoundStats {
  uint64_t dropped = 0;        // storm: connections the round cut
  uint64_t attempts = 0;       // connects started
  uint64_t accepted = 0;       // "Hit me baby…" replies
  uint64_t resumed = 0;        // definitions sent again after the accept
  uint64_t timedOut = 0;       // no reply within replyTimeout
  uint64_t closedNoReply = 0;  // closed by the peer before any reply byte
  uint64_t connectFailed = 0;  // connect() failed (refused, no port)
  uint64_t unaccepted = 0;     // storm: still not accepted when the next round (or the end) came
  std::map<std::string, uint64_t> refused;  // reply text -> times
  std::vector<float> replyMs;    // connect() to the accepting reply, per accept
  std::vector<float> connectMs;  // of it, connect() to the connection made (the listen queue)
  int64_t lastAcceptNs = 0;
  int64_t lastResumeNs = 0;
  void merge(const RoundStats& o);
};

struct WorkerStats {
  uint64_t samplesSent = 0;     // whole run, complete lines only (a stop is at a block boundary)
  uint64_t steadySamples = 0;   // steady phase
  uint64_t writes = 0;          // steady phase: slices (pace) or loop copies (max) sent whole
  uint64_t lost = 0;            // streams the peer closed in the steady phase
  uint64_t ticks = 0;           // pace: ticks scheduled
  std::vector<float> tickStartMs;  // pace: per sub-tick, its first write minus the schedule
  std::vector<float> tickDoneMs;   // pace: per sub-tick, its last write minus the schedule
  RoundStats connect;
  std::vector<RoundStats> storm;
  int64_t definedNs = 0;
};

class FleetWorker {
 public:
  FleetWorker(const Capture& capture, const LoadOptions& options, FleetControl& control,
              size_t first, size_t count);
  ~FleetWorker();
  FleetWorker(const FleetWorker&) = delete;
  FleetWorker& operator=(const FleetWorker&) = delete;

  void run();  // the thread's body

  // Set when every child of the worker has sent its definitions / finished the steady phase;
  // `stats()` may be read once `stopped()`.
  bool defined() const { return defined_.load(std::memory_order_acquire); }
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  const WorkerStats& stats() const { return stats_; }
  // The first connect's handshakes, as they were when the worker became defined (the worker
  // goes on counting a lost stream's reconnects in stats().connect).
  const RoundStats& connectStats() const { return connectAtDefined_; }
  const std::string& error() const { return error_; }

 private:
  enum class State : uint8_t { kIdle, kConnecting, kRequest, kReply, kBody, kStreaming, kRetry };
  struct Child {
    int fd = -1;
    State state = State::kIdle;
    bool sliceOpen = false;  // pace: a slice is partly sent
    bool done = false;       // steady phase over for this child (stopped at a boundary)
    bool defined = false;    // has sent its definitions once
    uint8_t slice = 0;       // pace: the slice being sent
    uint8_t replyLen = 0;
    uint16_t backlog = 0;    // pace: slices due after the open one
    uint32_t events = 0;     // the epoll interest registered
    uint32_t off = 0;        // bytes of the current buffer sent
    int64_t atNs = 0;        // kConnecting..kReply: connect() time; kRetry: when to retry
    uint32_t connectUs = 0;  // connect() until the connection was made
    int round = -1;          // the round whose stats the child's attempt counts in (-1: connect)
    char reply[46] = {};
  };
  enum class Phase { kConnect, kDefined, kSteady, kFlush, kStopped };

  void startAttempt(Child& c, int64_t now);
  void onEvent(Child& c, uint32_t events, int64_t now);
  void onReply(Child& c, int64_t now);
  void sendRequest(Child& c, int64_t now);
  void sendBody(Child& c, int64_t now);
  void sendSlices(Child& c);
  void sendLoop(Child& c);
  void drain(Child& c, int64_t now);
  void fail(Child& c, int64_t now, bool abort);
  void closeChild(Child& c, bool abort);
  void want(Child& c, uint32_t events);
  void paceTick(uint64_t subTick, int64_t now);
  void stormRound(int round, int64_t now);
  void sweep(int64_t now);
  void closeRound(int round);
  void armTimer(int64_t atNs);
  RoundStats& roundOf(const Child& c) { return c.round < 0 ? stats_.connect : stats_.storm[c.round]; }
  size_t indexOf(const Child& c) const { return first_ + static_cast<size_t>(&c - children_.data()); }

  const Capture& capture_;
  const LoadOptions& options_;
  FleetControl& control_;
  size_t first_;
  std::vector<Child> children_;
  int epoll_ = -1;
  int timer_ = -1;
  int64_t armedNs_ = -1;
  Phase phase_ = Phase::kConnect;
  size_t inFlight_ = 0;     // connects/requests/replies pending
  size_t retrying_ = 0;     // children waiting for a retry
  size_t nextToConnect_ = 0;
  size_t streaming_ = 0;    // children past their definitions
  size_t doneCount_ = 0;    // children stopped at a boundary
  int64_t startNs_ = 0;
  int64_t endNs_ = 0;
  int64_t subTickNs_ = 0;
  uint64_t nextSubTick_ = 0;
  int nextRound_ = 0;
  std::string scratch_;     // a request being built
  WorkerStats stats_;
  RoundStats connectAtDefined_;
  std::string error_;
  std::atomic<bool> defined_{false};
  std::atomic<bool> stopped_{false};
};

int64_t monotonicNs();

}  // namespace aclkd::bench
