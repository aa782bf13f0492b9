#include "stream_bridge/stream_server.h"

#include <malloc.h>

#include <future>

#include "common/fail_with.h"
#include "common/thread_priority.h"
#include "common/uuid.h"
#include "stream_bridge/stream_info.h"
#include "stream_bridge/stream_connection.h"

namespace aclkd::stream_bridge {

void StreamServer::Impl::identityTick() {
  if (!options.cloudIdentity) return;
  if (streaming == 0) return;  // nobody to tell: the link's state is not even read
  auto id = std::make_shared<const CloudIdentity>(options.cloudIdentity());
  {
    std::lock_guard lock(mutex);
    // Unchanged: every stream already has it (a new one takes it when it first speaks), so no
    // stream re-renders its NODE_ID and path for nothing.
    if (*identity == *id) return;
    identity = id;
  }
  for (auto& loop : loops) {
    asio::post(loop->io, [this, &loop = *loop, id] {
      std::vector<std::shared_ptr<Connection>> streams;
      {
        std::lock_guard lock(mutex);
        for (auto* c : loop.connections) {
          if (!c->streaming()) continue;
          if (auto alive = c->weak_from_this().lock()) streams.push_back(std::move(alive));
        }
      }
      for (const auto& c : streams) c->syncIdentity(*id);
    });
  }
}

void StreamServer::Impl::accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of file descriptors (EMFILE, ENFILE), of socket buffers (ENOBUFS) and the like: the
      // pending connection stays in the listen queue, so accepting again at once fails again at
      // once, spinning a core and flooding the log for as long as the condition lasts. Instead
      // the failure is counted (aclkd_stream_accept_failures_total), warned about at most once a
      // minute, and accepting resumes after a short pause, by when closing connections may have
      // given descriptors back. Meanwhile new connections wait in the kernel's listen queue.
      counters.acceptFailures++;
      warnLimited("", "accept-failed", "accept failed: " + ec.message() + "; retrying in 100 ms");
      acceptRetryTimer.expires_after(std::chrono::milliseconds(100));
      acceptRetryTimer.async_wait([this](error_code timerEc) {
        if (!timerEc) accept();
      });
      return;
    }
    admit(std::move(socket));
    // A reconnect storm fills the listen queue faster than one accept per loop turn empties it,
    // and beyond the kernel's backlog a connection is dropped and retried by its peer a second
    // later (an HTTP probe as well as a child: they share the port). So up to 64 more waiting
    // connections are taken now (the acceptor is non-blocking: none waiting ends the batch; an
    // error shows again at the next asynchronous accept, handled above).
    for (int more = 0; more < 64; ++more) {
      tcp::socket next(io);
      error_code again;
      acceptor.accept(next, again);
      if (again) break;
      admit(std::move(next));
    }
    accept();
  });
}

void StreamServer::Impl::admit(tcp::socket socket) {
  size_t open = 0;
  {
    std::lock_guard lock(mutex);
    for (const auto& loop : loops) open += loop->connections.size();
  }
  error_code ignored;
  if (open >= options.maxConnections) {
    counters.overLimit++;
    warnOnce("limit", "connection limit of " + std::to_string(options.maxConnections) +
                          " reached; closing new connections (logged once)");
    socket.close(ignored);
    return;
  }
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  serveConnection(*this, std::move(socket));
}

void StreamServer::Impl::scheduleSweep(Loop& loop) {
  // The front loop has no batched streams: it wakes once a second.
  const bool batching = &loop != loops[0].get();
  loop.sweepTimer.expires_after(batching ? kBatchPeriod : kBatchPeriod * int{kBatchBuckets});
  loop.sweepTimer.async_wait([this, &loop, batching](error_code ec) {
    if (ec) return;
    if (batching) {
      sweepBatch(loop);
    } else {
      loop.batchTick = (loop.batchTick / kBatchBuckets + 1) * kBatchBuckets;
    }
    if (loop.batchTick % kBatchBuckets != 0) return scheduleSweep(loop);
    // Once a second.
    ++loop.tick;
    const auto limit = static_cast<uint32_t>(std::max<long long>(options.idleTimeout.count(), 1));
    std::vector<std::shared_ptr<Connection>> idle;
    {
      std::lock_guard lock(mutex);
      for (auto* c : loop.connections) {
        if (c->idleSeconds(loop.tick) < limit) continue;
        if (auto alive = c->weak_from_this().lock()) idle.push_back(std::move(alive));
      }
    }
    for (const auto& c : idle) c->idleTimeout();
    // Function calls past their time (a second's granularity, as their timeouts are seconds).
    const auto now = SteadyClock::now();
    std::erase_if(loop.calling, [now](const std::weak_ptr<Connection>& w) {
      auto c = w.lock();
      return !c || !c->expireCalls(now);
    });
    if (&loop == loops[0].get()) trimAfterBurst();
    scheduleSweep(loop);
  });
}

// A definition burst (a child connecting: its charts, contexts and labels, then their copies on
// the way to the state store) leaves freed blocks spread across the threads' heaps, between the
// tables that stay; glibc gives back only a heap's free top, so the holes stayed in RSS (at
// 1,000 children ~45 % of the heaps, ~55 KB a child, was free). Once neither a definition nor a
// hand-off to the store has happened for a whole second after some did, malloc_trim returns the
// free pages of every heap, after the hosts' tables copied during the burst have gone back to
// the shared sets (NodeRegistry::shareTables). At most once a second; never during a burst or
// while streams only send samples.
void StreamServer::Impl::trimAfterBurst() {
  const uint64_t churn = registry->churn();
  if (churn == churnSeen && churn != churnTrimmed) {
    registry->shareTables();  // the burst's own copies of shared definitions go first
    malloc_trim(0);
    churnTrimmed = churn;
  }
  churnSeen = churn;
}

// One bucket of the loop's batched streams per kBatchPeriod. The bucket is copied first: a read
// may end a stream, which leaves its bucket.
void StreamServer::Impl::sweepBatch(Loop& loop) {
  const uint32_t tick = ++loop.batchTick;
  const auto& bucket = loop.batch[tick % kBatchBuckets];
  auto& due = loop.batchDue;  // kept: four times a second, no allocation once it has grown
  for (auto* c : bucket) {
    if (auto alive = c->weak_from_this().lock()) due.push_back(std::move(alive));
  }
  for (const auto& c : due) c->batchRead(tick);
  due.clear();
}

// A stream loop (never the front loop, loops[0]).
StreamServer::Impl::Loop& StreamServer::Impl::leastLoaded() {
  std::lock_guard lock(mutex);
  Loop* best = loops[1].get();
  for (size_t i = 2; i < loops.size(); ++i) {
    if (loops[i]->connections.size() < best->connections.size()) best = loops[i].get();
  }
  return *best;
}

StreamServer::StreamServer(BridgeOptions options, std::shared_ptr<const StreamConf> conf,
                           std::shared_ptr<NodeRegistry> registry)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(conf), std::move(registry))) {}

StreamServer::~StreamServer() { stop(); }

bool StreamServer::start(std::string* error) {
  auto& s = *impl_;
  try {
    if (s.options.tls != TlsMode::kNone) {
      s.tlsContext = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      s.tlsContext->set_options(asio::ssl::context::default_workarounds |
                                asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                                asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
      s.tlsContext->use_certificate_chain_file(s.options.tlsCertificate);
      s.tlsContext->use_private_key_file(s.options.tlsKey, asio::ssl::context::pem);
    }
    const tcp::endpoint endpoint(asio::ip::make_address(s.options.bindAddress),
                                 static_cast<unsigned short>(s.options.port));
    s.acceptor.open(endpoint.protocol());
    s.acceptor.set_option(tcp::acceptor::reuse_address(true));
    s.acceptor.bind(endpoint);
    // Set on the listener: every accepted socket inherits it, and its window scale is chosen
    // from it at the handshake (set later, the scale would be the default buffer's).
    if (s.options.receiveBufferBytes > 0) {
      s.acceptor.set_option(asio::socket_base::receive_buffer_size(
          static_cast<int>(s.options.receiveBufferBytes)));
    }
    // The kernel caps the backlog at net.core.somaxconn: asking for more than SOMAXCONN (asio's
    // max_listen_connections, 4,096) lets an operator's higher setting take effect
    // (docs/operations.md, "Many children").
    s.acceptor.listen(65535);
    s.acceptor.non_blocking(true);  // for the accept batches (Impl::accept)
    s.boundPort = s.acceptor.local_endpoint().port();
  } catch (const std::exception& e) {
    return failWith(error, "cannot listen for streams on " + s.options.bindAddress + ":" +
                               std::to_string(s.options.port) + ": " + e.what());
  }
  s.accept();
  s.scheduleCleanup();
  s.startedMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  s.scheduleIdentityTick();
  for (auto& loop : s.loops) {
    s.scheduleSweep(*loop);
    const bool streamLoop = loop != s.loops.front();
    loop->thread = std::thread([&io = loop->io, streamLoop] {
      if (streamLoop) runAsBulkThread();
      try {
        io.run();
      } catch (const std::exception& e) {
        spdlog::critical("STREAM: event loop failed: {}", e.what());
      }
    });
  }
  spdlog::info("STREAM: listening on {}:{}{}, a front loop and {} stream loop{}", s.options.bindAddress,
               s.boundPort,
               s.options.tls == TlsMode::kForce      ? " (TLS forced)"
               : s.options.tls == TlsMode::kOptional ? " (TLS optional)"
                                                     : "",
               s.loops.size() - 1, s.loops.size() == 2 ? "" : "s");
  return true;
}

void StreamServer::stop() {
  auto& s = *impl_;
  if (!s.loops[0]->thread.joinable()) return;
  for (auto& loop : s.loops) loop->io.stop();
  for (auto& loop : s.loops) loop->thread.join();
  // The loops are stopped, so nothing else touches the acceptor: the port is free from here on
  // (a post to loop 0 would not run once io.stop() is called).
  error_code ec;
  s.acceptor.close(ec);
}

void StreamServer::setConf(std::shared_ptr<const StreamConf> conf) {
  std::lock_guard lock(impl_->mutex);
  impl_->conf = std::move(conf);
}

// Views are read on each loop's thread so that no connection changes under the reader. A caller
// on a thread of its own (a control client) waits up to 2 s for a busy loop. The front loop (the
// HTTP API, the live channels) waits 5 ms at most: while it waits, no handshake and no other
// request is served, and a loop busy with a definition burst (a bulk thread, which yields to the
// front loop: common/thread_priority.h) is late by far more than any wait the front loop can
// afford. A loop late for its deadline contributes its last answer (kept per loop in `last`, and
// refreshed when the late request is served), so a scrape during a burst is a little stale
// rather than short. `collect` runs on each loop's thread (under Impl::mutex) and returns that
// loop's part; `count` says how many streams a part holds, for the warning.
namespace {

template <typename Part, typename Collect, typename Count>
std::vector<std::shared_ptr<const Part>> gatherFromLoops(
    StreamServer::Impl& s, std::shared_ptr<const Part> StreamServer::Impl::Loop::*last,
    const Collect& collect, const Count& count) {
  using Shared = std::shared_ptr<const Part>;
  std::vector<Shared> out;
  size_t streams = 0;
  std::vector<std::pair<StreamServer::Impl::Loop*, std::future<Shared>>> pending;
  for (auto& loop : s.loops) {
    const auto run = [&s, &loop = *loop, last, collect] {
      std::lock_guard lock(s.mutex);
      Shared part = std::make_shared<const Part>(collect(loop));
      loop.*last = part;
      return part;
    };
    // Asking itself: no hop (waiting would deadlock). Stream loops never ask.
    if (std::this_thread::get_id() == loop->thread.get_id()) {
      out.push_back(run());
      streams += count(*out.back());
      continue;
    }
    // Shared: if the loop is slow to answer, the late handler must not touch a dead frame.
    auto result = std::make_shared<std::promise<Shared>>();
    pending.emplace_back(loop.get(), result->get_future());
    asio::post(loop->io, [run, result] { result->set_value(run()); });
  }
  const bool onFrontLoop = std::this_thread::get_id() == s.loops[0]->thread.get_id();
  const auto wait = onFrontLoop ? std::chrono::milliseconds(5) : std::chrono::milliseconds(2000);
  const auto deadline = SteadyClock::now() + wait;
  size_t late = 0;
  size_t stale = 0;
  for (auto& [loop, f] : pending) {
    Shared part;
    if (f.wait_until(deadline) == std::future_status::ready) {
      part = f.get();
    } else {
      ++late;
      std::lock_guard lock(s.mutex);
      part = loop->*last;
      if (part) stale += count(*part);
    }
    if (part) {
      streams += count(*part);
      out.push_back(std::move(part));
    }
  }
  if (late > 0) {
    s.counters.viewsLate++;
    s.warnLimited("", "views-late",
                  std::to_string(late) + " I/O loop(s) did not hand over their stream views "
                  "within " + std::to_string(wait.count()) + " ms (busy); this answer lists " +
                  std::to_string(streams) + " of " + std::to_string(s.streaming.load()) +
                  " streams, " + std::to_string(stale) + " of them as of their loop's last answer");
  }
  return out;
}

}  // namespace

std::vector<StreamView> StreamServer::streams() const {
  using Views = std::vector<StreamView>;
  const auto parts = gatherFromLoops<Views>(
      *impl_, &Impl::Loop::lastViews,
      [](const Impl::Loop& loop) {
        Views views;
        for (auto* c : loop.connections) {
          if (c->streaming()) views.push_back(c->view());
        }
        return views;
      },
      [](const Views& v) { return v.size(); });
  std::vector<StreamView> out;
  for (const auto& part : parts) out.insert(out.end(), part->begin(), part->end());
  return out;
}

StreamServer::StreamTextParts StreamServer::streamText(size_t partCount,
                                                       const StreamTextWriter& write) const {
  return gatherFromLoops<StreamText>(
      *impl_, &Impl::Loop::lastText,
      // `write` copied: a late loop runs it after this call returned.
      [partCount, write](const Impl::Loop& loop) {
        StreamText text;
        text.parts.resize(partCount);
        StreamView v;  // one per loop: its strings' buffers serve every stream
        for (auto* c : loop.connections) {
          if (!c->streaming()) continue;
          c->fillView(v);
          write(v, text.parts);
          ++text.streams;
          text.samplesPerSecond += v.samplesPerSecond;
        }
        return text;
      },
      [](const StreamText& t) { return t.streams; });
}

size_t StreamServer::streamingCount() const { return impl_->streaming.load(); }

StreamInfoReply StreamServer::streamInfo(const std::string& target) const {
  auto& s = *impl_;
  const std::string guid = streamInfoMachineGuid(target);
  const auto status = s.registry->hostStatus(guid);
  StreamInfoFacts f;
  f.gatewayGuid = s.options.ownMachineGuid;
  f.nodes = status.hosts + 1;  // and the gateway itself, as a parent counts its localhost
  f.receivers = s.streaming.load();
  f.nonce = static_cast<uint32_t>(std::hash<std::string>{}(newUuid()));
  if (!guid.empty() && guid == s.options.ownMachineGuid) {
    f.host = HostKnowledge::kLocalhost;
  } else if (status.live) {
    f.host = HostKnowledge::kOnline;
  } else if (status.known) {
    f.host = HostKnowledge::kOffline;
  }
  f.firstSeen = status.firstSeen;
  f.lastSeen = status.live ? std::time(nullptr) : status.lastSeen;
  return {200, renderStreamInfo(f)};
}

bool StreamServer::mayStream(const std::string& peerIp) const {
  return impl_->allowFrom.admits(peerIp);
}

const BridgeCounters& StreamServer::counters() const { return impl_->counters; }

int StreamServer::port() const { return impl_->boundPort; }

void StreamServer::Impl::registerStream(const std::string& machineGuid,
                                        const std::shared_ptr<Connection>& c, Loop* loop) {
  std::lock_guard lock(mutex);
  streamsByGuid[machineGuid] = StreamEntry{c, loop};
}

void StreamServer::Impl::unregisterStream(const std::string& machineGuid, const Connection* c) {
  std::lock_guard lock(mutex);
  const auto it = streamsByGuid.find(machineGuid);
  if (it == streamsByGuid.end()) return;
  const auto held = it->second.connection.lock();
  if (!held || held.get() == c) streamsByGuid.erase(it);
}

void StreamServer::Impl::waitForHost(const std::string& machineGuid,
                                     const std::shared_ptr<Connection>& c, Loop* loop) {
  std::lock_guard lock(mutex);
  hostWaiters.emplace(machineGuid, StreamEntry{c, loop});
}

void StreamServer::Impl::stopWaitingForHost(const std::string& machineGuid, const Connection* c) {
  std::lock_guard lock(mutex);
  // Its own entry, and any of a connection gone since (a GUID whose stream never closes, a
  // cloned child, would otherwise collect them).
  auto [it, to] = hostWaiters.equal_range(machineGuid);
  while (it != to) {
    const auto held = it->second.connection.lock();
    it = !held || held.get() == c ? hostWaiters.erase(it) : std::next(it);
  }
}

void StreamServer::Impl::hostReleased(const std::string& machineGuid) {
  std::vector<StreamEntry> waiting;
  {
    std::lock_guard lock(mutex);
    const auto [from, to] = hostWaiters.equal_range(machineGuid);
    for (auto it = from; it != to; ++it) waiting.push_back(it->second);
    hostWaiters.erase(from, to);
  }
  for (auto& w : waiting) {
    asio::post(w.loop->io, [c = w.connection] {
      if (auto alive = c.lock()) alive->hostReleased();
    });
  }
}

uint64_t StreamServer::callFunction(const std::string& machineGuid, FunctionCallRequest request,
                                    FunctionDone done) {
  Impl& s = *impl_;
  const uint64_t id = ++s.nextCallId;
  Impl::StreamEntry entry;
  {
    std::lock_guard lock(s.mutex);
    const auto it = s.streamsByGuid.find(machineGuid);
    if (it != s.streamsByGuid.end()) {
      entry = it->second;
      s.callOwners[id] = entry;
    }
  }
  if (!entry.loop) {
    FunctionCallResult r;
    r.outcome = FunctionOutcome::kStreamGone;
    r.error = "no live stream holds the node";
    done(std::move(r));
    return id;
  }
  // The call leaves the table of owners when it completes, on the stream's loop thread.
  auto finished = [&s, id, done = std::move(done)](FunctionCallResult r) {
    {
      std::lock_guard lock(s.mutex);
      s.callOwners.erase(id);
    }
    done(std::move(r));
  };
  asio::post(entry.loop->io, [weak = entry.connection, id, request = std::move(request),
                              finished = std::move(finished)]() mutable {
    if (auto c = weak.lock()) return c->startCall(id, std::move(request), std::move(finished));
    FunctionCallResult r;
    r.outcome = FunctionOutcome::kStreamGone;
    r.error = "the node's stream closed before the call was sent";
    finished(std::move(r));
  });
  return id;
}

void StreamServer::cancelFunction(uint64_t id) {
  Impl& s = *impl_;
  Impl::StreamEntry entry;
  {
    std::lock_guard lock(s.mutex);
    const auto it = s.callOwners.find(id);
    if (it == s.callOwners.end()) return;
    entry = it->second;
  }
  asio::post(entry.loop->io, [weak = entry.connection, id] {
    if (auto c = weak.lock()) c->cancelCall(id);
  });
}

}  // namespace aclkd::stream_bridge
