#pragma once

// The stream server's insides, shared by stream_server.cc (the loops: accept, idle sweep, the
// cloud identity tick, views) and stream_connection.cc (one connection: sniff, TLS, handshake,
// hand-off to web/ or to a loop, streaming). What the loops see of a connection is declared
// with the connection, in stream_connection.h. Private to stream_bridge/.

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/log_limiter.h"
#include "stream_bridge/stream_server.h"

namespace aclkd::stream_bridge {

// Boost.Asio (not the standalone asio): the sockets web/ takes over are Boost.Beast's.
namespace asio = boost::asio;
using error_code = boost::system::error_code;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

inline constexpr size_t kReadBuffer = 64 * 1024;
// The batch sweep: one bucket of a loop's batched streams per period, every stream once a
// second. Four buckets rather than ten: each period is a wake-up of the loop whether or not its
// bucket holds a stream that sent (on this VM a wake-up costs ~100 µs of CPU, measured: 50
// children at pace cost 0.4 % of a core with ten).
inline constexpr int kBatchBuckets = 4;
inline constexpr std::chrono::milliseconds kBatchPeriod{250};  // × kBatchBuckets = 1 s

struct StreamServer::Impl {
  class Connection;  // what the loops see of a connection: stream_connection.h

  // One event loop on one thread. Loop 0, the front loop, accepts and serves every connection
  // until its first request is read: handshakes stay there, and so do the HTTP and live clients
  // handed to web/ (their sockets belong to loop 0) and TLS streams (their TLS state is bound to
  // it). An accepted plain-text stream is handed to the stream loop (1..N) with the fewest
  // connections, so the front loop never carries a definition burst: in a reconnect storm of
  // thousands of children, handshakes and the API are answered while the stream loops parse.
  // Everything a loop's connections touch besides their own state is thread-safe: the registry
  // (its mutex; the per-sample path takes none), the counters (atomics), the log limiter and
  // the conf (Impl::mutex).
  struct Loop {
    std::set<Connection*> connections;  // guarded by Impl::mutex; before `io`, which outlives it
    // Batched reads (stream_connection_streaming.cc): the loop's plain streams in kBatchBuckets
    // buckets; every kBatchPeriod the sweep reads one bucket, so every stream is read at least
    // once a second however little it sent (this loop's thread only; before `io`, as above).
    std::array<std::vector<Connection*>, kBatchBuckets> batch;
    std::vector<std::shared_ptr<Connection>> batchDue;  // sweepBatch's copy of a bucket
    size_t batchNext = 0;    // the bucket of the next stream that joins
    uint32_t batchTick = 0;  // kBatchPeriod ticks since the loop started
    // The views of the loop's last answer to streams(), for an answer it is late for (guarded
    // by Impl::mutex).
    std::shared_ptr<const std::vector<StreamView>> lastViews;
    std::shared_ptr<const StreamText> lastText;  // the same for streamText()
    // Concurrency hint 1: one thread runs it, so asio does not interrupt its epoll_wait (an
    // epoll_ctl per wake-up) to hand queued handlers to other threads. Posts from other threads
    // (the hand-off, streams()) stay safe: the queue is still locked.
    asio::io_context io{1};
    asio::steady_timer sweepTimer{io};
    std::thread thread;
    // Seconds since the loop started, the clock of the idle sweep (this loop's thread only).
    uint32_t tick = 0;
    // One read buffer and one decompression buffer for every plain connection of the loop: all
    // handlers run on the loop's thread and consume what they read before returning, so a
    // thousand idle children cost no buffer each. (TLS connections keep their own: the TLS
    // layer reads ahead.)
    std::vector<char> sharedRead = std::vector<char>(kReadBuffer);
    std::string sharedText;
    // Connections with function calls in flight, for the sweep's timeouts (this loop's thread
    // only): a few, not every connection of the loop.
    std::vector<std::weak_ptr<Connection>> calling;
  };

  Impl(BridgeOptions o, std::shared_ptr<const StreamConf> c, std::shared_ptr<NodeRegistry> r)
      : options(std::move(o)), conf(std::move(c)),
        registry(std::move(r)), allowFrom(SimplePattern::parse(options.allowStreamingFrom)),
        loops(makeLoops(options.ioThreads)), io(loops[0]->io), acceptor(io), cleanupTimer(io),
        identityTimer(io), acceptRetryTimer(io) {}
  // The stream loops go first, the front loop last. A handler still queued on a stream loop
  // when it stops (a hand-off posted from the front loop) owns a connection whose timers were
  // made on the front loop: destroying that loop's io_context destroys the handler, the
  // connection and its timers, which need the front loop's timer service alive (UBSan saw a
  // dead one when the vector destroyed loop 0 first). The acceptor and the server's timers,
  // also the front loop's, are members after `loops` and so go before it.
  ~Impl() {
    while (loops.size() > 1) loops.pop_back();
  }

  // The front loop and `threads` stream loops.
  static std::vector<std::unique_ptr<Loop>> makeLoops(size_t threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::unique_ptr<Loop>> loops;
    for (size_t i = 0; i <= threads; ++i) loops.push_back(std::make_unique<Loop>());
    return loops;
  }

  std::shared_ptr<const StreamConf> currentConf() const {
    std::lock_guard lock(mutex);
    return conf;
  }

  void accept();
  void admit(tcp::socket socket);  // one accepted connection: the limit, then served
  // Once a second on loop 0: the cloud identity (claim id, node ids) polled once, then handed to
  // every stream on its own loop's thread.
  void scheduleIdentityTick() {
    identityTimer.expires_after(std::chrono::seconds(1));
    identityTimer.async_wait([this](error_code ec) {
      if (ec) return;
      identityTick();
      scheduleIdentityTick();
    });
  }
  void identityTick();
  std::shared_ptr<const CloudIdentity> currentIdentity() const {
    std::lock_guard lock(mutex);
    return identity;
  }

  // Every kBatchPeriod per stream loop (the front loop: once a second): one bucket of
  // batched streams read; once a second, streams
  // that sent nothing for the idle timeout are dropped (one sweep instead of a timer re-armed on
  // every read: a syscall and a heap update per read) and function calls past their time fail.
  void scheduleSweep(Loop& loop);
  void sweepBatch(Loop& loop);
  void trimAfterBurst();  // loop 0's sweep; see stream_server.cc
  uint64_t churnSeen = 0;     // registry->churn() at the last sweep (loop 0)
  uint64_t churnTrimmed = 0;  // … at the last trim (loop 0)
  Loop& leastLoaded();

  void scheduleCleanup() {
    // Checked once a minute, or as often as the delay itself when it is shorter.
    cleanupTimer.expires_after(std::chrono::seconds(
        std::clamp<long long>(options.ephemeralCleanupAfter.count(), 1, 60)));
    cleanupTimer.async_wait([this](error_code ec) {
      if (ec) return;
      registry->cleanupEphemeral(static_cast<std::time_t>(options.ephemeralCleanupAfter.count()));
      scheduleCleanup();
    });
  }
  // Degraded modes of one peer: a warning per peer and reason, at most once a minute.
  void warnLimited(const std::string& peerIp, const std::string& reason, const std::string& text) {
    limiter.warn("STREAM", peerIp, reason, text);
  }
  void warnOnce(const std::string& key, const std::string& text) {
    {
      std::lock_guard lock(mutex);
      if (!warned.insert(key).second) {
        spdlog::debug("STREAM: {}", text);
        return;
      }
    }
    spdlog::warn("STREAM: {}", text);
  }

  // Function calls: the live stream of each machine GUID and the stream of each call in flight,
  // with the loop that serves it (stream_server.cc).
  struct StreamEntry {
    std::weak_ptr<Connection> connection;
    Loop* loop = nullptr;
  };
  void registerStream(const std::string& machineGuid, const std::shared_ptr<Connection>& c,
                      Loop* loop);
  void unregisterStream(const std::string& machineGuid, const Connection* c);
  std::map<std::string, StreamEntry> streamsByGuid;  // guarded by mutex
  // Handshakes waiting for their machine GUID's previous stream to close (attachHost), woken by
  // that close instead of each asking the registry again every 100 ms: in a storm of 10,000
  // reconnecting children the polls took the registry's lock up to 100,000 times a second, on
  // the front loop.
  void waitForHost(const std::string& machineGuid, const std::shared_ptr<Connection>& c,
                   Loop* loop);
  void hostReleased(const std::string& machineGuid);  // each waiter's hostReleased, on its loop
  void stopWaitingForHost(const std::string& machineGuid, const Connection* c);
  std::multimap<std::string, StreamEntry> hostWaiters;  // guarded by mutex
  std::map<uint64_t, StreamEntry> callOwners;        // guarded by mutex
  std::atomic<uint64_t> nextCallId{0};

  BridgeOptions options;
  mutable std::mutex mutex;
  std::shared_ptr<const StreamConf> conf;  // guarded by mutex
  std::set<std::string> warned;            // guarded by mutex
  LogLimiter limiter;
  std::shared_ptr<NodeRegistry> registry;
  SimplePattern allowFrom;
  BridgeCounters counters;
  // Connections past their handshake, on every loop: read from any thread without walking the
  // other loops' connections (whose state is their own loop's).
  std::atomic<size_t> streaming{0};

  std::vector<std::unique_ptr<Loop>> loops;
  asio::io_context& io;  // loop 0's: the acceptor, handshakes, timers, web/'s connections
  tcp::acceptor acceptor;
  asio::steady_timer cleanupTimer;
  asio::steady_timer identityTimer;
  asio::steady_timer acceptRetryTimer;  // accept() after a failed accept (see accept())
  std::shared_ptr<const CloudIdentity> identity =
      std::make_shared<CloudIdentity>();  // the last polled; guarded by mutex
  int64_t startedMs = 0;                  // the gateway's start, for its hop in stream paths
  std::unique_ptr<asio::ssl::context> tlsContext;
  int boundPort = 0;
};

}  // namespace aclkd::stream_bridge
