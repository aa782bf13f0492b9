// One connection on the stream port: the first byte sniffed (TLS or not), the first request read,
// then either handed to web/ (anything that is not `STREAM`) or served as a Netdata stream: the
// handshake and capability negotiation, the hand-off to the least-loaded loop, reads drained
// until the socket is empty, the parser's events escaped and forwarded to the registry, and what
// a v2 parent sends down (NODE_ID, the stream path).

#include <deque>
#include <optional>

#include "common/untrusted_text.h"
#include "common/uuid.h"
#include "stream_bridge/compression/decoder.h"
#include "stream_bridge/downstream_identity.h"
#include "stream_bridge/escaping_events.h"
#include "stream_bridge/function_calls.h"
#include "stream_bridge/handshake.h"
#include "stream_bridge/stream_parser.h"
#include "stream_bridge/stream_path.h"
#include "stream_bridge/stream_connection.h"
#include "web/port_connection.h"

namespace aclkd::stream_bridge {
namespace {

using Impl = StreamServer::Impl;

class StreamConnection final : public Impl::Connection, public EscapingEvents {
 public:
  StreamConnection(Impl& server, tcp::socket socket)
      : server_(server), loop_(server.loops[0].get()), socket_(std::move(socket)),
        timer_(server.io) {
    error_code ec;
    socket_.non_blocking(true, ec);
    const auto remote = socket_.remote_endpoint(ec);
    peerIp_ = ec ? "unknown" : remote.address().to_string();
    peer_ = ec ? "unknown" : peerIp_ + ":" + std::to_string(remote.port());
    since_ = std::time(nullptr);
    started_ = SteadyClock::now();
  }

  ~StreamConnection() override {
    if (parser_) server_.streaming--;
    std::lock_guard lock(server_.mutex);
    loop_->connections.erase(this);
  }

  void start() {
    {
      std::lock_guard lock(server_.mutex);
      loop_->connections.insert(this);
    }
    armTimer(server_.options.handshakeTimeout, [](StreamConnection& c) { c.handshakeTimedOut(); });
    // Sniff the first byte: a TLS record starts below 0x18, `STREAM` with 'S'
    // (docs/protocol/streaming.md §6).
    auto self = selfPtr();
    socket_.async_wait(tcp::socket::wait_read, [self](error_code ec) {
      if (ec) return self->close();
      unsigned char first = 0;
      error_code pe;
      const size_t n = self->socket_.receive(asio::buffer(&first, 1), tcp::socket::message_peek, pe);
      if (pe || n == 0) return self->close();
      self->beginSession(first < 0x18);
    });
  }

  StreamView view() const override {
    StreamView v;
    v.peer = peer_;
    v.machineGuid = request_.machineGuid;
    v.hostname = request_.hostname;
    v.hops = request_.hops;
    if (decoder_) v.compression = std::string(compressionName(decoder_->algorithm()));
    v.tls = tls_ != nullptr;
    v.capabilities = negotiated_;
    v.since = since_;
    v.wireBytes = wireBytes_;
    if (parser_) {
      v.textBytes = parser_->stats().bytes;
      v.lines = parser_->stats().lines;
      v.samples = parser_->stats().sampleLines;
      v.malformedLines = parser_->stats().malformedLines;
      const double secs = std::chrono::duration<double>(SteadyClock::now() - started_).count();
      v.samplesPerSecond = secs > 0 ? static_cast<double>(v.samples) / secs : 0;
    }
    return v;
  }

  bool streaming() const override { return parser_ != nullptr; }
  void idleTimeout() override {
    drop("idle-timeout", "stream from " + peer_ + " dropped: no data for the idle timeout", true);
  }
  uint32_t idleSeconds(uint32_t tick) const override {
    return streaming() && lastTick_ != kNotStreaming ? tick - lastTick_ : 0;
  }

  // ---- StreamEvents: escaped and forwarded to the registry (EscapingEvents), plus the
  // replication answer, the per-sample path and what a v2 child sends about its path.
  void onChartDefinitionEnd(std::string_view c, int64_t f, int64_t l, int64_t now) override {
    EscapingEvents::onChartDefinitionEnd(c, f, l, now);
    std::string line = "REPLAY_CHART \"";
    line.append(c);
    line += "\" \"true\" 0 0\n";
    send(std::move(line));
  }
  void onSamples(std::string_view c, int64_t t) override {
    // The per-sample path: a chart seen before on this stream is matched raw (see sampleCached).
    if (!host_->sampleCached(c, t)) EscapingEvents::onSamples(c, t);
  }
  void onStreamPath(std::string_view json) override {
    if (!(negotiated_ & cap::kPaths)) return;
    std::string error;
    auto hops = parseStreamPath(json, &error);
    if (!hops) {
      return server_.warnLimited(peerIp_, "bad-stream-path",
                                 "stream from " + peer_ + ": ignored a STREAM_PATH: " + error);
    }
    spdlog::debug("STREAM [receive from [{}]:{}]: stream path of {} hop(s)", peerIp_,
                  request_.hostname, hops->size());
    if (identity_) identity_->setChildPath(std::move(*hops));
    syncIdentity(*server_.currentIdentity());
  }

  // ---- what a v2 parent sends down (DownstreamIdentity) ------------------------------------ Only
  // after the child spoke: the prompt travels alone (docs/protocol/streaming.md §3.3, its own read
  // at the child), and every command after it is one whole line. No empty line goes before the
  // first one: a v2.10.4 child logs an empty line as "received unknown command over connection:
  // (unset)" at error level (seen in the lab), and a real parent sends none. Runs on the
  // connection's own loop thread.
  void syncIdentity(const CloudIdentity& id) override {
    if (closed_ || !parser_ || !spoke_ || !identity_) return;
    const GatewayHop self{server_.options.ownHostname, server_.options.ownMachineGuid,
                          server_.startedMs, cap::kBridgeSupported};
    for (auto& line : identity_->commands(id, self)) send(std::move(line));
  }

  // ---- function calls (FunctionCalls), on this loop's thread --------------------------------
  void startCall(uint64_t id, FunctionCallRequest request, FunctionDone done) override {
    if (closed_ || !calls_) {
      FunctionCallResult r;
      r.outcome = FunctionOutcome::kStreamGone;
      r.error = calls_ ? "the node's stream closed before the call was sent"
                       : "the node's stream did not negotiate FUNCTIONS";
      return done(std::move(r));
    }
    const bool wasIdle = calls_->inFlight() == 0;
    calls_->start(id, std::move(request), std::move(done), SteadyClock::now());
    if (wasIdle && calls_->inFlight() > 0) loop_->calling.push_back(selfPtr());
  }
  void cancelCall(uint64_t id) override {
    if (calls_) calls_->cancel(id);
  }
  bool expireCalls(SteadyClock::time_point now) override {
    if (!calls_) return false;
    calls_->expire(now);
    return calls_->inFlight() > 0;
  }
  void onFunctionResultBegin(std::string_view txn, int code, std::string_view type,
                             int64_t expires) override {
    if (!calls_) return;
    const uint64_t strays = calls_->strayResults();
    calls_->resultBegin(txn, code, type, expires);
    if (calls_->strayResults() == strays) return;
    server_.counters.strayFunctionResults++;
    server_.warnLimited(peerIp_, "function-result-stray",
                        "stream from " + peer_ + ": a function result for no call in flight (late "
                        "after a timeout or a cancel) was read and dropped");
  }
  void onFunctionResultBody(std::string_view bytes) override {
    if (calls_) calls_->resultBody(bytes);
  }
  void onFunctionResultEnd() override {
    if (calls_) calls_->resultEnd();
  }
  void onFunctionProgress(std::string_view txn, int64_t, int64_t) override {
    if (calls_) calls_->progress(txn, SteadyClock::now());
  }

  void onUnknownKeyword(std::string_view keyword) override {
    const std::string shown = escapeUntrusted(keyword);
    server_.warnOnce("keyword " + shown, "ignoring unknown keyword '" + shown + "' from " + peer_ +
                                             " (logged once per keyword)");
  }

 private:
  std::shared_ptr<StreamConnection> selfPtr() {
    return std::static_pointer_cast<StreamConnection>(shared_from_this());
  }

  void beginSession(bool tls) {
    if (tls && !server_.tlsContext) {
      return drop("tls-not-configured",
                  "TLS connection from " + peer_ + " but no TLS is configured on [web] bind to",
                  false);
    }
    if (!tls && server_.options.tls == TlsMode::kForce) {
      return drop("tls-forced", "plain-text connection from " + peer_ + " refused: TLS is forced",
                  false);
    }
    if (!tls) return readHandshake(true);  // the peek saw bytes: read them in this turn
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket_),
                                                            *server_.tlsContext);
    auto self = selfPtr();
    tls_->async_handshake(asio::ssl::stream_base::server, [self](error_code ec) {
      if (ec) {
        return self->drop("tls-handshake",
                          "TLS handshake with " + self->peer_ + " failed: " + ec.message(), false);
      }
      self->readHandshake();
    });
  }

  // Reads what is there into readData(); with plain sockets it waits for readiness first and then
  // reads into the shared buffer, so no buffer is held while a child is idle. `dataWaiting`
  // (plain only): bytes are known to be there, so the read is tried at once, saving loop 0 a
  // turn per handshake, which counts when thousands of children reconnect together.
  template <typename Handler>
  void readSome(Handler handler, bool dataWaiting = false) {
    if (tls_) {
      if (tlsBuffer_.empty()) tlsBuffer_.resize(kReadBuffer);
      tls_->async_read_some(asio::buffer(tlsBuffer_), std::move(handler));
      return;
    }
    if (dataWaiting) return readNow(std::move(handler));
    auto self = selfPtr();
    socket_.async_wait(tcp::socket::wait_read, [self, handler](error_code ec) mutable {
      if (ec) return handler(ec, 0);
      self->readNow(std::move(handler));
    });
  }
  template <typename Handler>
  void readNow(Handler handler) {
    error_code ec;
    const size_t n = socket_.read_some(asio::buffer(loop_->sharedRead), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      return readSome(std::move(handler));
    }
    handler(ec, n);
  }

  const char* readData() const { return tls_ ? tlsBuffer_.data() : loop_->sharedRead.data(); }

  void readHandshake(bool dataWaiting = false) {
    auto self = selfPtr();
    readSome([self](error_code ec, size_t n) {
      if (ec) return self->close();
      self->wireBytes_ += n;
      self->handshake_.append(self->readData(), n);
      // The first bytes decide: `STREAM …` is the bridge's, anything else is web/'s, which parses
      // the HTTP head from what was read here.
      const auto& h = self->handshake_;
      const size_t probe = std::min<size_t>(h.size(), 7);
      if (h.compare(0, probe, "STREAM ", 0, probe) != 0) return self->handOff();
      const auto end = handshakeEnd(self->handshake_);
      if (!end || *end > kMaxHandshakeBytes) {
        if (self->handshake_.size() > kMaxHandshakeBytes) {
          return self->refuse(std::string(kReplyNotPermitted),
                              "request of more than " + std::to_string(kMaxHandshakeBytes) +
                                  " bytes without an end of headers");
        }
        return self->readHandshake();
      }
      const std::string rest = self->handshake_.substr(*end);
      self->handshake_.resize(*end);
      self->onRequest(rest);
    }, dataWaiting);
  }

  // Not a Netdata stream: the socket (plain or TLS) and the bytes read so far go to web/ (HTTP
  // and /live), and this connection forgets them.
  void handOff() {
    closed_ = true;
    disarmTimer();
    if (!server_.options.handOff) return;  // no web side: the socket closes with this object
    web::PortConnection c;
    c.received = std::move(handshake_);
    if (tls_) {
      c.tls = std::move(tls_);
    } else {
      c.plain = std::make_unique<tcp::socket>(std::move(socket_));
    }
    server_.options.handOff(std::move(c));
  }

  void onRequest(const std::string& rest) {
    std::string error;
    auto request = parseStreamRequest(handshake_, &error);
    if (!request) {
      return refuse(std::string(kReplyNotPermitted), "invalid STREAM request: " + error);
    }
    request_ = *request;
    const std::string who = "[receive from [" + peerIp_ + "]:" + request_.hostname + "]";
    if (!server_.allowFrom.admits(peerIp_)) {
      return refuse(std::string(kReplyNotPermitted),
                    "STREAM " + who + ": IP '" + peerIp_ +
                        "' is not allowed by [web] allow streaming from. Forbidding access.");
    }
    const auto conf = server_.currentConf();
    const auto decision = conf->check(request_.apiKey, request_.machineGuid, peerIp_);
    if (!decision.allowed) {
      return refuse(decision.reply, "STREAM " + who + ": " + decision.log);
    }
    if (!server_.options.ownMachineGuid.empty() &&
        request_.machineGuid == server_.options.ownMachineGuid) {
      return refuse(std::string(kReplyLocalhost),
                    "STREAM " + who + ": machine GUID '" + request_.machineGuid +
                        "' is the gateway's own. Forbidding access.");
    }
    host_ = server_.registry->attach(request_, conf->policy(request_.apiKey, request_.machineGuid),
                                     peer_);
    if (!host_) {
      return refuse(std::string(kReplyAlreadyStreaming),
                    "STREAM " + who + ": machine GUID '" + request_.machineGuid +
                        "' is already streaming to this server");
    }
    forwardTo(host_.get());
    const bool hasProtocol = request_.systemInfo.count("NETDATA_PROTOCOL_VERSION") > 0;
    const auto compressionOrder = conf->compressionOrder(request_.apiKey, request_.machineGuid,
                                                         server_.options.compression);
    negotiated_ = selectCompression(negotiate(expandVersion(request_.ver, hasProtocol), cap::kBridgeSupported,
                                              !compressionOrder.empty()),
                                    compressionOrder);
    if (const auto c = negotiatedCompression(negotiated_); c != Compression::kNone) {
      decoder_ = std::make_unique<StreamDecoder>(c);
    }
    parser_ = std::make_unique<StreamParser>(*this, server_.options.maxLineBytes);
    host_->setCapabilities(negotiated_);
    identity_.emplace(request_.machineGuid, request_.hops, negotiated_, since_);
    if (negotiated_ & cap::kFunctions) {
      calls_.emplace([this](std::string line) { if (!closed_) send(std::move(line)); },
                     (negotiated_ & (cap::kProgress | cap::kDyncfg)) != 0,
                     FunctionCalls::Limits{});
    }
    server_.streaming++;
    server_.counters.accepted++;
    server_.counters.wireBytes += wireBytes_;  // the handshake's bytes
    spdlog::info("STREAM [receive from [{}]:{}]: accepted '{}' ({}), hops {}, capabilities {}{}",
                 peerIp_, request_.hostname, request_.machineGuid, request_.version, request_.hops,
                 negotiated_,
                 decoder_ ? ", " + std::string(compressionName(decoder_->algorithm())) : "");
    std::string().swap(handshake_);
    request_.systemInfo.clear();  // now in the registry; the view needs only names and hops
    // The hand-off point: from here the connection is a stream, served by an I/O loop of its
    // own (the idle sweep replaces the handshake timer).
    disarmTimer();
    Impl::Loop& target = server_.leastLoaded();
    if (&target == loop_ || tls_) return startStreaming(rest);
    // A TLS stream stays on loop 0: its TLS state is bound to that loop's socket.
    error_code ec;
    const auto protocol = socket_.local_endpoint(ec).protocol();
    const auto fd = ec ? -1 : socket_.release(ec);
    if (ec) return startStreaming(rest);
    {
      std::lock_guard lock(server_.mutex);
      loop_->connections.erase(this);
      target.connections.insert(this);
    }
    loop_ = &target;
    asio::post(target.io, [self = selfPtr(), protocol, fd, rest] {
      error_code ignored;
      self->socket_ = tcp::socket(self->loop_->io);
      self->socket_.assign(protocol, fd, ignored);
      self->socket_.non_blocking(true, ignored);
      self->timer_ = asio::steady_timer(self->loop_->io);
      self->startStreaming(rest);
    });
  }

  void startStreaming(const std::string& rest) {
    lastTick_ = loop_->tick;
    // From here calls for the host find this stream, on this loop.
    server_.registerStream(request_.machineGuid, selfPtr(), loop_);
    // The prompt travels alone: nothing else is written before the child speaks (§3.3).
    send(successPrompt(negotiated_));
    if (!rest.empty() && !onStreamData(rest.data(), rest.size(), false)) return;
    if (!rest.empty()) childSpoke();
    readStream();
  }

  void readStream() {
    auto self = selfPtr();
    if (tls_) {
      return readSome([self](error_code ec, size_t n) {
        if (ec) return self->streamEnded(ec);
        if (self->onStreamData(self->readData(), n, true)) self->readStream();
      });
    }
    socket_.async_wait(tcp::socket::wait_read, [self](error_code ec) {
      if (ec) return self->streamEnded(ec);
      self->drainStream();
    });
  }

  // Reads until the socket is empty (a read shorter than the buffer), parsing each piece: one
  // wake-up takes what the child sent since the last one. At most 16 reads (1 MiB) before the
  // loop serves the others again.
  void drainStream() {
    auto& buffer = loop_->sharedRead;
    for (int reads = 0; reads < 16; ++reads) {
      error_code ec;
      const size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) return streamEnded(ec);
      if (!onStreamData(buffer.data(), n, true)) return;
      if (n < buffer.size()) break;
    }
    readStream();
  }

  void streamEnded(error_code ec) {
    if (ec != asio::error::operation_aborted) {
      spdlog::info("STREAM [receive from [{}]:{}]: connection closed ({})", peerIp_,
                   request_.hostname, ec.message());
    }
    close();
  }

  // One piece of the stream; false when the stream had to be dropped.
  bool onStreamData(const char* data, size_t n, bool fromWire) {
    if (fromWire) {
      wireBytes_ += n;
      server_.counters.wireBytes += n;
    }
    lastTick_ = loop_->tick;
    const bool ok = consume(data, n);
    syncTotals();
    if (ok && fromWire && n > 0 && !spoke_) childSpoke();
    return ok;
  }

  // The child's first bytes after the prompt: what a v2 parent sends down may follow now.
  void childSpoke() {
    if (spoke_) return;
    spoke_ = true;
    syncIdentity(*server_.currentIdentity());
  }

  // Decompresses and parses one piece; false when the stream had to be dropped.
  bool consume(const char* data, size_t n) {
    host_->refreshClock();
    std::string error;
    if (decoder_) {
      auto& text = loop_->sharedText;
      text.clear();
      if (!decoder_->feed(std::string_view(data, n), &text, &error)) {
        drop("corrupt-compression", "compressed stream from " + peer_ + " is corrupt: " + error,
             true);
        return false;
      }
      if (!parser_->feed(text, &error)) {
        drop("bad-data", "stream from " + peer_ + " dropped: " + error, true);
        return false;
      }
      return true;
    }
    if (!parser_->feed(std::string_view(data, n), &error)) {
      drop("bad-data", "stream from " + peer_ + " dropped: " + error, true);
      return false;
    }
    return true;
  }

  void send(std::string data) {
    outbox_.push_back(std::move(data));
    if (outbox_.size() == 1) writeNext();
  }

  void writeNext() {
    auto self = selfPtr();
    auto done = [self](error_code ec, size_t) {
      if (ec) return self->close();
      self->outbox_.pop_front();
      if (self->closeAfterWrite_ && self->outbox_.empty()) return self->close();
      if (!self->outbox_.empty()) self->writeNext();
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(outbox_.front()), done);
    } else {
      asio::async_write(socket_, asio::buffer(outbox_.front()), done);
    }
  }

  void refuse(const std::string& reply, const std::string& log) {
    server_.counters.refused++;
    spdlog::error("{}", log);
    closeAfterWrite_ = true;
    armTimer(std::chrono::seconds(5), [](StreamConnection& c) { c.close(); });
    send(reply);
  }

  // Adds what the parser counted since the last call to the server's monotonic totals, so the
  // totals keep a stream's samples after it disconnects.
  void syncTotals() {
    if (!parser_) return;
    const auto& st = parser_->stats();
    server_.counters.samples += st.sampleLines - reported_.sampleLines;
    server_.counters.malformedLines += st.malformedLines - reported_.malformedLines;
    reported_ = st;
  }

  // Every dropped connection is a warning, rate-limited per peer and `reason` (a short key).
  void drop(const std::string& reason, const std::string& why, bool counted) {
    if (counted) server_.counters.dropped++;
    server_.warnLimited(peerIp_, reason, why);
    close();
  }

  // The connection's one timer: the handshake timeout, then the grace for a refusal's reply.
  // An expired wait can no longer be cancelled: asio may already have queued its handler, in the
  // same turn as the read that completed the handshake. So every arm and disarm bumps
  // timerArm_, and a handler from an older arm does nothing: a stream accepted in that turn is
  // not dropped by the handshake timeout it beat.
  void armTimer(std::chrono::seconds after, void (*fired)(StreamConnection&)) {
    const uint64_t arm = ++timerArm_;
    timer_.expires_after(after);
    std::weak_ptr<StreamConnection> weak = selfPtr();
    timer_.async_wait([weak, arm, fired](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_ || self->timerArm_ != arm) return;
      fired(*self);
    });
  }
  void disarmTimer() {
    ++timerArm_;
    timer_.cancel();
  }

  // The handshake timeout is the child's deadline, not the gateway's. When the request already
  // waits in the socket, the child sent it and it is loop 0 that has not read it: in a reconnect
  // storm thousands of definition bursts queue ahead of it. Such a connection gets one more
  // period instead of a drop (a child dropped there reconnects and adds to the storm); the busy
  // loop is the degraded mode, warned per peer and counted. A peer that sent nothing, or whose
  // bytes were read, is dropped as before.
  void handshakeTimedOut() {
    const auto period = std::to_string(server_.options.handshakeTimeout.count()) + " s";
    error_code ec;
    const size_t unread = (tls_ ? tls_->next_layer() : socket_).available(ec);
    if (!ec && unread > 0 && !handshakeExtended_) {
      handshakeExtended_ = true;
      server_.counters.handshakesLate++;
      server_.warnLimited(peerIp_, "handshake-late",
                          "connection from " + peer_ + ": its request waited " + period +
                              " unread on a busy loop; given another " + period);
      return armTimer(server_.options.handshakeTimeout,
                      [](StreamConnection& c) { c.handshakeTimedOut(); });
    }
    drop("handshake-timeout",
         "connection from " + peer_ + " dropped: no complete request within " + period, true);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    disarmTimer();
    error_code ec;
    tcp::socket& raw = tls_ ? tls_->next_layer() : socket_;
    raw.shutdown(tcp::socket::shutdown_both, ec);
    raw.close(ec);
    if (parser_) server_.unregisterStream(request_.machineGuid, this);
    if (calls_) calls_->failAll("the stream of " + request_.hostname + " closed before the answer");
    forwardTo(nullptr);
    host_.reset();  // the host goes offline
  }

  Impl& server_;
  Impl::Loop* loop_;  // the loop serving the connection now
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;  // owns the socket once TLS
  asio::steady_timer timer_;
  uint64_t timerArm_ = 0;           // see armTimer
  bool handshakeExtended_ = false;  // see handshakeTimedOut
  std::vector<char> tlsBuffer_;
  std::string handshake_;
  std::string peer_;
  std::string peerIp_;
  StreamRequest request_;
  uint64_t negotiated_ = 0;
  std::unique_ptr<StreamDecoder> decoder_;
  std::unique_ptr<StreamParser> parser_;
  std::unique_ptr<NodeRegistry::Stream> host_;
  std::deque<std::string> outbox_;
  bool closeAfterWrite_ = false;
  bool closed_ = false;
  bool spoke_ = false;        // the child sent something after the prompt
  std::optional<DownstreamIdentity> identity_;  // what goes down about the cloud identity
  std::optional<FunctionCalls> calls_;          // with FUNCTIONS: the calls in flight
  uint64_t wireBytes_ = 0;
  static constexpr uint32_t kNotStreaming = ~0u;
  uint32_t lastTick_ = kNotStreaming;  // loop_->tick at the last data (the idle sweep)
  ParserStats reported_;  // parser totals already added to the server's monotonic counters
  std::time_t since_ = 0;
  SteadyClock::time_point started_;
};

}  // namespace

void serveConnection(StreamServer::Impl& server, tcp::socket socket) {
  std::make_shared<StreamConnection>(server, std::move(socket))->start();
}

}  // namespace aclkd::stream_bridge
