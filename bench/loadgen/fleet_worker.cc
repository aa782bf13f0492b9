#include "bench/loadgen/fleet_worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace aclkd::bench {
namespace {

constexpr std::string_view kAcceptPrompt = "Hit me baby";
constexpr int64_t kSweepNs = 50'000'000;    // timeouts and retries are checked this often
constexpr int64_t kControlNs = 20'000'000;  // how often an idle phase looks at FleetControl

int64_t secondsToNs(double s) { return static_cast<int64_t>(s * 1e9); }

}  // namespace

int64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void RoundStats::merge(const RoundStats& o) {
  dropped += o.dropped;
  attempts += o.attempts;
  accepted += o.accepted;
  resumed += o.resumed;
  timedOut += o.timedOut;
  closedNoReply += o.closedNoReply;
  connectFailed += o.connectFailed;
  unaccepted += o.unaccepted;
  for (const auto& [text, n] : o.refused) refused[text] += n;
  replyMs.insert(replyMs.end(), o.replyMs.begin(), o.replyMs.end());
  connectMs.insert(connectMs.end(), o.connectMs.begin(), o.connectMs.end());
  lastAcceptNs = std::max(lastAcceptNs, o.lastAcceptNs);
  lastResumeNs = std::max(lastResumeNs, o.lastResumeNs);
}

FleetWorker::FleetWorker(const Capture& capture, const LoadOptions& options,
                         FleetControl& control, size_t first, size_t count)
    : capture_(capture), options_(options), control_(control), first_(first), children_(count) {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the timer; children carry their Child*
  if (epoll_ < 0 || timer_ < 0 || epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev) != 0) {
    error_ = std::string("epoll/timerfd: ") + std::strerror(errno);
  }
  stats_.storm.resize(static_cast<size_t>(std::max(0, options.stormRounds)));
  const auto slices = static_cast<int64_t>(capture.slices().size());
  subTickNs_ = 1'000'000'000 / (slices * std::max(1, options.slots));
}

FleetWorker::~FleetWorker() {
  for (auto& c : children_) closeChild(c, false);
  if (timer_ >= 0) ::close(timer_);
  if (epoll_ >= 0) ::close(epoll_);
}

void FleetWorker::run() {
  if (!error_.empty()) return;
  std::vector<epoll_event> events(1024);
  int64_t now = monotonicNs();
  int64_t lastSweep = now;
  const size_t window = static_cast<size_t>(
      std::max(1, options_.connectWindow / std::max(1, options_.threads)));
  uint64_t samplesAtSteady = 0;
  for (;;) {
    now = monotonicNs();
    if ((inFlight_ || retrying_) && now - lastSweep >= kSweepNs) {
      sweep(now);
      lastSweep = now;
    }
    switch (phase_) {
      case Phase::kConnect:
        while (inFlight_ < window && nextToConnect_ < children_.size()) {
          startAttempt(children_[nextToConnect_++], now);
        }
        if (streaming_ == children_.size()) {
          stats_.definedNs = now;
          connectAtDefined_ = stats_.connect;
          phase_ = Phase::kDefined;
          defined_.store(true, std::memory_order_release);
        }
        break;
      case Phase::kDefined:
        if (const int64_t start = control_.steadyStartNs.load(); start != 0) {
          startNs_ = start;
          endNs_ = start + secondsToNs(options_.seconds);
          samplesAtSteady = stats_.samplesSent;
          phase_ = Phase::kSteady;
          if (options_.mode == LoadMode::kMax) {
            for (auto& c : children_) {
              if (c.state == State::kStreaming) want(c, EPOLLIN | EPOLLOUT);
            }
          }
        }
        break;
      case Phase::kSteady: {
        // A storm is due by the clock, ticks or not. A late thread sends its missed ticks one
        // per turn (the gateway still gets every sample) with the sockets served in between,
        // so a generator short of CPU shows as tick lateness, not as a frozen fleet.
        while (nextRound_ < options_.stormRounds &&
               startNs_ + secondsToNs(options_.stormFirst + nextRound_ * options_.stormEvery) <= now &&
               now < endNs_) {
          stormRound(nextRound_++, now);
        }
        if (options_.mode == LoadMode::kPace) {
          const int64_t at = startNs_ + static_cast<int64_t>(nextSubTick_) * subTickNs_;
          if (at <= now && at < endNs_) {
            paceTick(nextSubTick_++, at);
            now = monotonicNs();
          }
        }
        const bool ticksLeft = options_.mode == LoadMode::kPace &&
                               startNs_ + static_cast<int64_t>(nextSubTick_) * subTickNs_ < endNs_;
        if (now >= endNs_ && !ticksLeft) {
          // The stop: each child finishes what it is writing (a slice, a loop copy, its
          // definitions), so the gateway can count every sample sent; nothing new starts.
          phase_ = Phase::kFlush;
          closeRound(nextRound_ - 1);
          stats_.ticks = nextSubTick_ / static_cast<uint64_t>(std::max(1, options_.slots));
          for (auto& c : children_) {
            const bool busy = (c.state == State::kStreaming && (c.sliceOpen || c.off > 0)) ||
                              c.state == State::kBody;
            if (c.state != State::kStreaming && c.state != State::kBody) closeChild(c, true);
            if (!busy) {
              c.done = true;
              ++doneCount_;
              if (c.state == State::kStreaming) want(c, EPOLLIN);
            }
          }
        }
        break;
      }
      case Phase::kFlush:
        if (doneCount_ == children_.size()) {
          stats_.steadySamples = stats_.samplesSent - samplesAtSteady;
          phase_ = Phase::kStopped;
          stopped_.store(true, std::memory_order_release);
        }
        break;
      case Phase::kStopped:
        if (control_.release.load()) {
          for (auto& c : children_) closeChild(c, false);
          return;
        }
        break;
    }

    int64_t next = LLONG_MAX;
    if (phase_ != Phase::kSteady) next = now + kControlNs;
    if (inFlight_ || retrying_) next = std::min(next, lastSweep + kSweepNs);
    if (phase_ == Phase::kSteady) {
      next = std::min(next, endNs_);  // a time past is armed as "now": the turn only polls
      if (options_.mode == LoadMode::kPace) {
        next = std::min(next, startNs_ + static_cast<int64_t>(nextSubTick_) * subTickNs_);
      }
      if (nextRound_ < options_.stormRounds) {
        next = std::min(next, startNs_ + secondsToNs(options_.stormFirst +
                                                     nextRound_ * options_.stormEvery));
      }
    }
    armTimer(next);
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
    now = monotonicNs();
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        uint64_t expirations;
        (void)!::read(timer_, &expirations, sizeof expirations);
        armedNs_ = -1;
        continue;
      }
      onEvent(*static_cast<Child*>(events[i].data.ptr), events[i].events, now);
    }
  }
}

void FleetWorker::armTimer(int64_t atNs) {
  if (atNs == armedNs_) return;
  armedNs_ = atNs;
  itimerspec spec{};
  spec.it_value.tv_sec = atNs / 1'000'000'000;
  spec.it_value.tv_nsec = atNs % 1'000'000'000;
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void FleetWorker::want(Child& c, uint32_t events) {
  if (c.fd < 0 || c.events == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &c;
  epoll_ctl(epoll_, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
  c.events = events;
}

// Leaves whatever the child was doing: the counters of in-flight handshakes and waiting retries
// follow the state. `abort` resets the connection (RST, no TIME_WAIT: a storm of 10,000 closes
// per round would otherwise use up the ephemeral ports) as a crashed or cut-off child would.
void FleetWorker::closeChild(Child& c, bool abort) {
  if (c.state == State::kConnecting || c.state == State::kRequest || c.state == State::kReply) {
    --inFlight_;
  } else if (c.state == State::kRetry) {
    --retrying_;
  }
  if (c.fd >= 0) {
    if (abort) {
      linger l{1, 0};
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(c.fd);
  }
  c.fd = -1;
  c.events = 0;
  c.state = State::kIdle;
  c.sliceOpen = false;
  c.backlog = 0;
  c.off = 0;
}

void FleetWorker::fail(Child& c, int64_t now, bool abort) {
  closeChild(c, abort);
  if (phase_ == Phase::kFlush || phase_ == Phase::kStopped) {
    if (!c.done) {
      c.done = true;
      ++doneCount_;
    }
    return;
  }
  c.state = State::kRetry;
  c.atNs = now + secondsToNs(options_.reconnectDelay);
  ++retrying_;
}

void FleetWorker::startAttempt(Child& c, int64_t now) {
  closeChild(c, false);
  RoundStats& round = roundOf(c);
  ++round.attempts;
  c.atNs = monotonicNs();  // not the turn's `now`: a storm's connects take a while to issue
  c.connectUs = 0;
  c.replyLen = 0;
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd >= 0 && options_.sendBuffer > 0) {
    setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &options_.sendBuffer, sizeof options_.sendBuffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options_.port);
  inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr);
  const int rc = c.fd < 0 ? -1
                          : ::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && (c.fd < 0 || errno != EINPROGRESS)) {
    ++round.connectFailed;
    return fail(c, now, false);
  }
  ++inFlight_;
  c.state = rc == 0 ? State::kRequest : State::kConnecting;
  want(c, EPOLLIN | EPOLLOUT);
  if (rc == 0) sendRequest(c, now);
}

void FleetWorker::onEvent(Child& c, uint32_t events, int64_t now) {
  switch (c.state) {
    case State::kConnecting: {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ++roundOf(c).connectFailed;
        return fail(c, now, false);
      }
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      c.connectUs = static_cast<uint32_t>(
          std::min<int64_t>((monotonicNs() - c.atNs) / 1000, UINT32_MAX));
      c.state = State::kRequest;
      return sendRequest(c, now);
    }
    case State::kRequest:
      return sendRequest(c, now);
    case State::kReply:
      return onReply(c, now);
    case State::kBody:
      if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) drain(c, now);
      if (c.state == State::kBody && (events & EPOLLOUT)) sendBody(c, now);
      return;
    case State::kStreaming:
      if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) drain(c, now);
      if (c.state != State::kStreaming || !(events & EPOLLOUT)) return;
      return options_.mode == LoadMode::kPace ? sendSlices(c) : sendLoop(c);
    case State::kIdle:
    case State::kRetry:
      return;
  }
}

void FleetWorker::sendRequest(Child& c, int64_t now) {
  scratch_ = capture_.requestFor(options_.runTag, indexOf(c));
  while (c.off < scratch_.size()) {
    const ssize_t n = ::send(c.fd, scratch_.data() + c.off, scratch_.size() - c.off, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) return want(c, EPOLLIN | EPOLLOUT);
    if (n <= 0) {
      ++roundOf(c).closedNoReply;
      return fail(c, now, false);
    }
    c.off += static_cast<uint32_t>(n);
  }
  c.off = 0;
  c.state = State::kReply;
  want(c, EPOLLIN);
}

// The reply decides the attempt: "Hit me baby…" (any version) accepts; any other text is a
// refusal, kept (up to the buffer) as the reason; a close before any byte is its own outcome.
void FleetWorker::onReply(Child& c, int64_t now) {
  RoundStats& round = roundOf(c);
  const size_t room = sizeof c.reply - 1 - c.replyLen;
  const ssize_t n = ::recv(c.fd, c.reply + c.replyLen, room, 0);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0) {
    if (c.replyLen == 0) {
      ++round.closedNoReply;
    } else {
      ++round.refused[std::string(c.reply, c.replyLen)];
    }
    return fail(c, now, false);
  }
  c.replyLen = static_cast<uint8_t>(c.replyLen + n);
  const std::string_view got(c.reply, c.replyLen);
  const bool matches = got.size() >= kAcceptPrompt.size() ? got.starts_with(kAcceptPrompt)
                                                          : kAcceptPrompt.starts_with(got);
  if (matches && got.size() < kAcceptPrompt.size()) return;
  if (!matches) {
    if (c.replyLen < sizeof c.reply - 1) return;  // the rest of the reason, or the close
    ++round.refused[std::string(got)];
    return fail(c, now, true);
  }
  --inFlight_;  // accepted: out of the handshake counters before the state changes
  c.state = State::kBody;
  ++round.accepted;
  round.replyMs.push_back(static_cast<float>(monotonicNs() - c.atNs) / 1e6f);
  round.connectMs.push_back(static_cast<float>(c.connectUs) / 1e3f);
  round.lastAcceptNs = now;
  c.off = 0;
  want(c, EPOLLIN | EPOLLOUT);
  sendBody(c, now);
}

void FleetWorker::sendBody(Child& c, int64_t now) {
  const std::string_view body = capture_.body();
  while (c.off < body.size()) {
    const ssize_t n = ::send(c.fd, body.data() + c.off, body.size() - c.off, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      ++stats_.lost;
      return fail(c, now, false);
    }
    c.off += static_cast<uint32_t>(n);
  }
  c.off = 0;
  c.state = State::kStreaming;
  stats_.samplesSent += capture_.bodySamples();
  RoundStats& round = roundOf(c);
  ++round.resumed;
  round.lastResumeNs = now;
  if (phase_ == Phase::kConnect && !c.defined) {
    c.defined = true;
    ++streaming_;
  }
  if (phase_ == Phase::kFlush && !c.done) {
    c.done = true;
    ++doneCount_;
  }
  const bool writes = phase_ == Phase::kSteady && options_.mode == LoadMode::kMax;
  want(c, writes ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

// Bytes from the gateway (nothing a 1.37 child must answer in this replay) are read and
// dropped; a close ends the stream, which reconnects after the delay unless the run stops.
void FleetWorker::drain(Child& c, int64_t now) {
  static thread_local char sink[65536];
  for (;;) {
    const ssize_t n = ::recv(c.fd, sink, sizeof sink, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EAGAIN) return;
    const bool counting = phase_ == Phase::kSteady || phase_ == Phase::kFlush;  // not once read
    if (c.state == State::kStreaming && counting) ++stats_.lost;
    return fail(c, now, false);
  }
}

void FleetWorker::sendSlices(Child& c) {
  const auto& slices = capture_.slices();
  while (c.sliceOpen) {
    const std::string& s = slices[c.slice];
    const ssize_t n = ::send(c.fd, s.data() + c.off, s.size() - c.off, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) return want(c, EPOLLIN | EPOLLOUT);
    if (n <= 0) {
      ++stats_.lost;
      return fail(c, monotonicNs(), false);
    }
    c.off += static_cast<uint32_t>(n);
    if (c.off < s.size()) continue;
    stats_.samplesSent += capture_.sliceSamples()[c.slice];
    ++stats_.writes;
    c.off = 0;
    if (c.backlog > 0) {
      --c.backlog;
      c.slice = static_cast<uint8_t>((c.slice + 1) % slices.size());
    } else {
      c.sliceOpen = false;
    }
  }
  want(c, EPOLLIN);
  if (phase_ == Phase::kFlush && !c.done) {
    c.done = true;
    ++doneCount_;
  }
}

void FleetWorker::sendLoop(Child& c) {
  const std::string_view loop = capture_.loop();
  const ssize_t n = ::send(c.fd, loop.data() + c.off, loop.size() - c.off, MSG_NOSIGNAL);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0) {
    ++stats_.lost;
    return fail(c, monotonicNs(), false);
  }
  c.off += static_cast<uint32_t>(n);
  if (c.off < loop.size()) return;
  c.off = 0;
  stats_.samplesSent += capture_.loopSamples();
  ++stats_.writes;
  if (phase_ == Phase::kFlush && !c.done) {
    c.done = true;
    ++doneCount_;
    want(c, EPOLLIN);
  }
}

// Tick k, slot j: child i (of this slot) writes slice (k + i) % w, so the children's slices are
// spread over the second as the Python generator spreads them. A child still writing an earlier
// slice queues this one (a slow reader; not expected on loopback).
void FleetWorker::paceTick(uint64_t subTick, int64_t scheduledNs) {
  const auto slots = static_cast<uint64_t>(std::max(1, options_.slots));
  const uint64_t k = subTick / slots;
  const uint64_t slot = subTick % slots;
  const size_t w = capture_.slices().size();
  stats_.tickStartMs.push_back(static_cast<float>(monotonicNs() - scheduledNs) / 1e6f);
  size_t idx = static_cast<size_t>((slot + slots - first_ % slots) % slots);
  for (; idx < children_.size(); idx += slots) {
    Child& c = children_[idx];
    if (c.state != State::kStreaming || c.done) continue;
    if (c.sliceOpen) {
      if (c.backlog < UINT16_MAX) ++c.backlog;
      continue;
    }
    c.slice = static_cast<uint8_t>((k + first_ + idx) % w);
    c.off = 0;
    c.sliceOpen = true;
    sendSlices(c);
  }
  stats_.tickDoneMs.push_back(static_cast<float>(monotonicNs() - scheduledNs) / 1e6f);
}

// Every selected child resets its connection and starts a new one at once, with its own
// machine GUID: the gateway sees the same hosts come back, as after a network cut.
void FleetWorker::closeRound(int round) {
  if (round < 0) return;
  for (const auto& c : children_) {
    if (c.round == round && c.state != State::kBody && c.state != State::kStreaming) {
      ++stats_.storm[static_cast<size_t>(round)].unaccepted;
    }
  }
}

void FleetWorker::stormRound(int round, int64_t now) {
  closeRound(round - 1);
  const double f = options_.stormFraction;
  for (auto& c : children_) {
    const double i = static_cast<double>(indexOf(c));
    if (static_cast<uint64_t>((i + 1) * f) == static_cast<uint64_t>(i * f)) continue;
    closeChild(c, true);
    c.round = round;
    ++stats_.storm[static_cast<size_t>(round)].dropped;
    startAttempt(c, now);
  }
}

void FleetWorker::sweep(int64_t now) {
  const int64_t timeout = secondsToNs(options_.replyTimeout);
  for (auto& c : children_) {
    const bool handshaking =
        c.state == State::kConnecting || c.state == State::kRequest || c.state == State::kReply;
    if (handshaking && now - c.atNs > timeout) {
      RoundStats& round = roundOf(c);
      if (c.replyLen > 0) {
        ++round.refused[std::string(c.reply, c.replyLen)];
      } else {
        ++round.timedOut;
      }
      fail(c, now, true);
    } else if (c.state == State::kRetry && now >= c.atNs) {
      startAttempt(c, now);
    }
  }
}

}  // namespace aclkd::bench
