// One connection on the stream port until it streams (stream_connection_impl.h): the first byte
// sniffed (TLS or not), the first request read, then either handed to web/ (anything that is not
// `STREAM`) or accepted: the handshake and capability negotiation, the hand-off to a stream loop,
// the handshake timer, refusals and the close.

#include "stream_bridge/stream_connection_impl.h"

#include "web/port_connection.h"

namespace aclkd::stream_bridge {

StreamConnection::StreamConnection(Impl& server, tcp::socket socket)
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

StreamConnection::~StreamConnection() {
  if (parser_) server_.streaming--;
  leaveBatch();
  std::lock_guard lock(server_.mutex);
  loop_->connections.erase(this);
}

void StreamConnection::start() {
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

void StreamConnection::fillView(StreamView& v) const {
  v.peer = peer_;
  v.machineGuid = request_.machineGuid;
  v.hostname = request_.hostname;
  v.hops = request_.hops;
  v.compression = decoder_ ? compressionName(decoder_->algorithm()) : std::string_view("none");
  v.tls = tls_ != nullptr;
  v.capabilities = negotiated_;
  v.since = since_;
  v.wireBytes = wireBytes_;
  v.textBytes = v.lines = v.samples = v.malformedLines = 0;
  v.samplesPerSecond = 0;
  if (parser_) {
    v.textBytes = parser_->stats().bytes;
    v.lines = parser_->stats().lines;
    v.samples = parser_->stats().sampleLines;
    v.malformedLines = parser_->stats().malformedLines;
    const double secs = std::chrono::duration<double>(SteadyClock::now() - started_).count();
    v.samplesPerSecond = secs > 0 ? static_cast<double>(v.samples) / secs : 0;
  }
}

void StreamConnection::idleTimeout() {
  drop("idle-timeout", "stream from " + peer_ + " dropped: no data for the idle timeout", true);
}

void StreamConnection::beginSession(bool tls) {
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

void StreamConnection::readHandshake(bool dataWaiting) {
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
void StreamConnection::handOff() {
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

void StreamConnection::onRequest(const std::string& rest) {
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
  attachHost(rest);
}

// A child that reconnects after a drop can be faster than the close of its previous stream,
// which that stream's loop handles in its turn (in a reconnect storm, behind other children's
// definition bursts): the registry still has the host attached. Refused ("already streaming"), a
// Netdata child waits before it tries again, and the storm lasts longer. So the request waits for
// that close, up to 5 s (kAttachWait; 2 s left 4 of 10,000 children refused in a measured
// storm): the close wakes it (Impl::waitForHost), and a check every second covers a close that
// came between the refused attach and the registration. Only then is the request taken for what
// it is: a second live stream of the machine GUID (a cloned child, or two parents relaying it),
// refused and noted by the registry.
void StreamConnection::attachHost(const std::string& rest) {
  const auto conf = server_.currentConf();
  const auto now = SteadyClock::now();
  const bool lastTry = attachTries_ > 0 && now - attachWaitSince_ >= kAttachWait;
  host_ = server_.registry->attach(request_, conf->policy(request_.apiKey, request_.machineGuid),
                                   peer_, lastTry);
  if (!host_ && !lastTry) {
    if (attachTries_ == 0) {
      // The request is complete: the handshake timeout (a child that does not send one) is over.
      disarmTimer();
      attachWaitSince_ = now;
      attachRest_ = rest;
    }
    ++attachTries_;
    if (!waitingForHost_) {
      waitingForHost_ = true;
      server_.waitForHost(request_.machineGuid, selfPtr(), loop_);
    }
    if (!attachTimer_) attachTimer_ = std::make_unique<asio::steady_timer>(loop_->io);
    attachTimer_->expires_after(std::min<SteadyClock::duration>(
        std::chrono::seconds(1), attachWaitSince_ + kAttachWait - now));
    attachTimer_->async_wait([self = selfPtr()](error_code ec) {
      // A check that expired as the close woke the attach (hostReleased) is queued with success
      // all the same: attachDone_ tells it the wait is over (read first: once it is set the
      // connection may be another loop's, and closed_ that loop's).
      if (!ec && !self->attachDone_ && !self->closed_) self->attachHost(self->attachRest_);
    });
    return;
  }
  attachDone_ = true;  // on the front loop, before any hand-off; never changed again
  if (waitingForHost_) {
    waitingForHost_ = false;
    server_.stopWaitingForHost(request_.machineGuid, this);
  }
  const std::string who = "[receive from [" + peerIp_ + "]:" + request_.hostname + "]";
  if (!host_) {
    return refuse(std::string(kReplyAlreadyStreaming),
                  "STREAM " + who + ": machine GUID '" + request_.machineGuid +
                      "' is already streaming to this server");
  }
  if (attachTries_ > 0) {
    server_.counters.attachWaits++;
    server_.warnLimited(peerIp_, "attach-wait",
                        "STREAM " + who + ": the previous stream of '" + request_.machineGuid +
                            "' was still open; the request waited " +
                            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               SteadyClock::now() - attachWaitSince_)
                                               .count()) +
                            " ms for it to close");
  }
  attachTimer_.reset();
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
  // A TLS stream stays on loop 0: its TLS state is bound to that loop's socket.
  if (tls_) return startStreaming(rest, successPrompt(negotiated_));
  error_code ec;
  const auto protocol = socket_.local_endpoint(ec).protocol();
  if (ec) return startStreaming(rest, successPrompt(negotiated_));  // stays on the front loop
  // In its stream loop's set before the child has the prompt: a view asked for once the child
  // is answered finds the stream there. Nothing a view reads changes after this point.
  Impl::Loop& target = server_.leastLoaded();
  {
    std::lock_guard lock(server_.mutex);
    loop_->connections.erase(this);
    target.connections.insert(this);
  }
  loop_ = &target;
  // The prompt is written here, so the child's handshake is answered by the front loop even
  // while the stream loops parse other children's definition bursts (a reconnect storm). A
  // fresh socket's send buffer takes it whole; what it does not take, the stream loop sends.
  std::string prompt = successPrompt(negotiated_);
  const size_t written = socket_.write_some(asio::buffer(prompt), ec);
  if (!ec) prompt.erase(0, written);
  const auto fd = socket_.release(ec);
  if (ec) return drop("hand-off", "stream from " + peer_ + " dropped: " + ec.message(), true);
  asio::post(target.io, [self = selfPtr(), protocol, fd, rest, prompt] {
    error_code ignored;
    self->socket_ = tcp::socket(self->loop_->io);
    self->socket_.assign(protocol, fd, ignored);
    self->socket_.non_blocking(true, ignored);
    self->timer_ = asio::steady_timer(self->loop_->io);
    self->startStreaming(rest, prompt);
  });
}

void StreamConnection::refuse(const std::string& reply, const std::string& log) {
  server_.counters.refused++;
  spdlog::error("{}", log);
  closeAfterWrite_ = true;
  armTimer(std::chrono::seconds(5), [](StreamConnection& c) { c.close(); });
  send(reply);
}

// Every dropped connection is a warning, rate-limited per peer and `reason` (a short key).
void StreamConnection::drop(const std::string& reason, const std::string& why, bool counted) {
  if (counted) server_.counters.dropped++;
  server_.warnLimited(peerIp_, reason, why);
  close();
}

// The connection's one timer: the handshake timeout, then the grace for a refusal's reply.
// An expired wait can no longer be cancelled: asio may already have queued its handler, in the
// same turn as the read that completed the handshake. So every arm and disarm bumps
// timerArm_, and a handler from an older arm does nothing: a stream accepted in that turn is
// not dropped by the handshake timeout it beat.
void StreamConnection::armTimer(std::chrono::seconds after, void (*fired)(StreamConnection&)) {
  const uint64_t arm = ++timerArm_;
  timer_.expires_after(after);
  std::weak_ptr<StreamConnection> weak = selfPtr();
  timer_.async_wait([weak, arm, fired](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_ || self->timerArm_ != arm) return;
    fired(*self);
  });
}
void StreamConnection::disarmTimer() {
  ++timerArm_;
  timer_.cancel();
}

// The handshake timeout is the child's deadline, not the gateway's. When the request already
// waits in the socket, the child sent it and it is loop 0 that has not read it: in a reconnect
// storm thousands of definition bursts queue ahead of it. Such a connection gets one more
// period instead of a drop (a child dropped there reconnects and adds to the storm); the busy
// loop is the degraded mode, warned per peer and counted. A peer that sent nothing, or whose
// bytes were read, is dropped as before.
void StreamConnection::handshakeTimedOut() {
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

// The previous stream of the machine GUID closed (Impl::hostReleased): the waiting attach again.
void StreamConnection::hostReleased() {
  // A late notice (the attach succeeded or was refused meanwhile): attachDone_ is read first,
  // since the connection may now be a stream loop's.
  if (attachDone_ || attachTries_ == 0) return;
  waitingForHost_ = false;  // the server dropped the entry when it woke this
  if (closed_) return;
  attachHost(attachRest_);  // re-arms (and so cancels) the check timer, or resets it
}

void StreamConnection::close() {
  if (closed_) return;
  closed_ = true;
  disarmTimer();
  if (waitingForHost_) {
    waitingForHost_ = false;
    server_.stopWaitingForHost(request_.machineGuid, this);
  }
  error_code ec;
  tcp::socket& raw = tls_ ? tls_->next_layer() : socket_;
  raw.shutdown(tcp::socket::shutdown_both, ec);
  raw.close(ec);
  if (parser_) server_.unregisterStream(request_.machineGuid, this);
  if (calls_) calls_->failAll("the stream of " + request_.hostname + " closed before the answer");
  leaveBatch();
  forwardTo(nullptr);
  if (host_) {
    host_.reset();  // the host goes offline
    server_.hostReleased(request_.machineGuid);  // a reconnect of it may be waiting
  }
}

void serveConnection(StreamServer::Impl& server, tcp::socket socket) {
  std::make_shared<StreamConnection>(server, std::move(socket))->start();
}

}  // namespace aclkd::stream_bridge
