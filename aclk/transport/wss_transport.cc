#include "aclk/transport/wss_transport.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <mutex>
#include <thread>

#include "aclk/transport/mqtt_stream.h"
#include "aclk/transport/own_socket.h"
#include "aclk/transport/proxy_tunnel.h"
#include "aclk/transport/tls_verify.h"
#include "aclk/transport/ws_upgrade.h"

namespace aclkd::aclk::transport {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using WsStream = websocket::stream<ssl::stream<tcp::socket>>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Paho writes faster than the cloud may read: above this many queued bytes the local pipe is not
// read until the WebSocket writer catches up (Paho then buffers, bounded by the link's 32 MiB
// in-flight limit).
constexpr size_t kOutboundHighWater = 8u << 20;
// One WebSocket frame carries at most this much of the queued MQTT stream.
constexpr size_t kMaxFrameBytes = 256u << 10;
constexpr size_t kReadChunk = 256u << 10;
// A PUBLISH's bytes besides its payload: topic (2 + up to 65535), packet id, properties.
constexpr size_t kPacketAllowance = 2 + 65535 + 2 + 1024;

}  // namespace

TransportCounters& transportCounters() {
  static TransportCounters counters;
  return counters;
}

struct WssTransport::Impl {
  Impl(TransportParams params, TlsErrorSink sink)
      : p(std::move(params)), onTlsError(std::move(sink)),
        outbound(p.aliasTopics, [this](MqttPacketType t) { onOutboundPacket(t); },
                 p.keepAliveSeconds),
        inbound([this](uint8_t first, uint32_t len) { return onInboundHeader(first, len); }) {}

  TransportParams p;
  TlsErrorSink onTlsError;
  // Run by one thread (the hint lets Asio queue the coroutines' own completions without a lock
  // or a wake-up); stop() posts from the owner's thread, which stays safe.
  asio::io_context ioc{1};
  ssl::context tls{ssl::context::tls_client};
  tcp::acceptor acceptor{ioc};
  tcp::socket pipe{ioc};
  std::unique_ptr<WsStream> ws;
  asio::steady_timer stepTimer{ioc};
  asio::steady_timer setupTimer{ioc};
  asio::steady_timer tick{ioc};
  asio::steady_timer drained{ioc};
  asio::steady_timer hardStop{ioc};
  std::thread thread;
  bool started = false;

  // Owned by the io thread.
  bool pipeAccepted = false;
  bool wsUp = false;
  bool mqttUp = false;  // CONNACK seen
  bool ended = false;
  bool closing = false;  // our WebSocket CLOSE is under way
  bool writing = false;
  bool pahoClosed = false;
  bool tooBig = false;
  uint64_t unexpectedPongs = 0;
  // The cloud's first bytes, held until its CONNACK is whole (then rewritten: liftReceiveMaximum).
  std::string beforeConnack;
  bool connackPassed = false;
  std::atomic<int> serverReceiveMaximum{-1};  // read by the MQTT client's thread
  std::deque<std::string> outQueue;
  size_t outQueued = 0;
  OutboundPackets outbound;
  MqttHeaderScanner inbound;
  WireTimers timers{p.timers, Clock::now()};
  std::string tlsError;  // why the certificate was refused (verifyCloudCertificate)

  mutable std::mutex mutex;
  std::optional<AclkStatus> reason;
  std::string detail;

  // ---- endings ----------------------------------------------------------------------------

  void fail(AclkStatus status, const std::string& why) {
    if (ended) {
      return;
    }
    {
      std::lock_guard lock(mutex);
      reason = status;
      detail = why;
    }
    spdlog::warn("ACLK: transport to \"{}\" ended: {}", p.host, why);
    finish();
  }

  // Closes every socket and timer; each coroutine then ends on its own, and with no work left
  // the io thread returns. Closing the local pipe is how Paho learns that the link is gone.
  void finish() {
    if (ended) {
      return;
    }
    ended = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    pipe.close(ec);
    beast::get_lowest_layer(*ws).close(ec);
    stepTimer.cancel();
    setupTimer.cancel();
    tick.cancel();
    drained.cancel();
    hardStop.cancel();
  }

  // Paho closed the pipe (after its DISCONNECT): flush what it wrote, then CLOSE 1000.
  asio::awaitable<void> closeGracefully() {
    if (ended || closing) {
      co_return;
    }
    closing = true;
    stepTimer.expires_after(p.timers.closeFlush);
    stepTimer.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish();
    });
    auto [ec] = co_await ws->async_close(websocket::close_code::normal, kTuple);
    (void)ec;
    finish();
  }

  // ---- setup ------------------------------------------------------------------------------

  void armStep(std::chrono::milliseconds limit, AclkStatus status, std::string why) {
    stepTimer.expires_after(limit);
    stepTimer.async_wait([this, status, why = std::move(why)](boost::system::error_code ec) {
      if (!ec) fail(status, why);
    });
  }

  asio::awaitable<void> setup() {
    auto& socket = beast::get_lowest_layer(*ws);
    const bool viaProxy = p.proxy.kind != ProxyKind::kNone;
    const std::string tcpHost = viaProxy ? p.proxy.host : p.host;
    const int tcpPort = viaProxy ? p.proxy.port : p.port;

    armStep(p.timers.tcpConnect, AclkStatus::kTimeout,
            "TCP connect to " + tcpHost + ":" + std::to_string(tcpPort) + " timed out");
    tcp::resolver resolver(ioc);
    auto [rec, results] = co_await resolver.async_resolve(tcpHost, std::to_string(tcpPort), kTuple);
    if (ended) co_return;
    if (rec) {
      fail(AclkStatus::kCannotResolveHostname, "cannot resolve " + tcpHost + ": " + rec.message());
      co_return;
    }
    auto [cec, endpoint] = co_await asio::async_connect(socket, results, kTuple);
    (void)endpoint;
    if (ended) co_return;
    if (cec) {
      fail(cec == asio::error::connection_refused ? AclkStatus::kConnectionRefused
                                                  : AclkStatus::kSocketUnknownError,
           "TCP connect to " + tcpHost + ":" + std::to_string(tcpPort) + " failed: " +
               cec.message());
      co_return;
    }
    socket.set_option(tcp::no_delay(true));

    if (viaProxy) {
      armStep(p.timers.proxyTunnel, AclkStatus::kHttpsProxyNegotiationFailed,
              "proxy tunnel through " + p.proxy.urlWithoutCredentials() + " timed out");
      std::string tunnelError;
      try {
        co_await openTunnel(socket, p.proxy, p.host, p.port);
      } catch (const TunnelError& e) {
        tunnelError = e.what();
      } catch (const boost::system::system_error& e) {
        tunnelError = "proxy connection failed: " + e.code().message();
      }
      if (ended) co_return;
      if (!tunnelError.empty()) {
        fail(AclkStatus::kHttpsProxyNegotiationFailed,
             "proxy " + p.proxy.urlWithoutCredentials() + ": " + tunnelError);
        co_return;
      }
    }
    stepTimer.cancel();

    // docs/protocol/aclk.md §5.2: TLS 1.2+ (prepareTlsContext), SNI, host or IP verification.
    verifyCloudCertificate(ws->next_layer(), p.host, p.insecure, &tlsError);
    auto [tec] = co_await ws->next_layer().async_handshake(ssl::stream_base::client, kTuple);
    if (ended) co_return;
    if (tec) {
      if (!tlsError.empty()) {
        onTlsError(tlsError);
        fail(AclkStatus::kInvalidSslCertification,
             "TLS certificate verification failed for host '" + p.host + "': " + tlsError);
      } else {
        fail(AclkStatus::kCannotEstablishSsl, "TLS handshake failed: " + tec.message());
      }
      co_return;
    }

    // WebSocket upgrade, exactly §5.3's request (Beast checks 101, Upgrade, Connection and
    // Sec-WebSocket-Accept in the response).
    ws->set_option(websocket::stream_base::timeout{
        websocket::stream_base::none(), websocket::stream_base::none(), false});
    const std::string host = p.host;
    ws->set_option(websocket::stream_base::decorator(
        [host](websocket::request_type& req) { shapeUpgradeRequest(req, host); }));
    ws->binary(true);
    ws->auto_fragment(false);
    ws->write_buffer_bytes(64 * 1024);
    // A frame may hold several MQTT packets; the per-packet 16 MiB limit is the scanner's.
    ws->read_message_max(0);
    // Framing rules of §5.3 and who enforces them: client frames are binary, FIN set
    // (auto_fragment off) and masked with a fresh random mask (Beast, client role); a masked
    // server frame, a control frame over 125 bytes or a continuation without a fragmented message
    // is a protocol error (Beast: bad_masked_frame, bad_control_size, bad_continuation); PING is
    // answered with a PONG carrying the same payload and CLOSE ends the session (Beast); TEXT is
    // skipped in inboundPump(). One deviation: Beast accepts a properly fragmented message
    // (FIN=0 frame + continuations) where the agent rejects every opcode 0; since the bytes form
    // one MQTT stream either way, rejecting it would need hand-written framing for no gain.
    ws->control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) {
        ++unexpectedPongs;
        if (unexpectedPongs <= 10) {  // per connection, so a chatty server cannot flood the log
          spdlog::error("ACLK: unexpected WebSocket PONG from \"{}\" skipped", p.host);
        }
      }
    });
    websocket::response_type response;
    auto [wec] = co_await ws->async_handshake(response, host, "/mqtt", kTuple);
    if (ended) co_return;
    if (wec) {
      fail(AclkStatus::kOfflineWsProtocolError,
           "WebSocket upgrade refused (HTTP " + std::to_string(response.result_int()) + "): " +
               wec.message());
      co_return;
    }
    wsUp = true;
    timers.started(Clock::now());
    asio::co_spawn(ioc, inboundPump(), asio::detached);
    startWriter();
  }

  // ---- local pipe -------------------------------------------------------------------------

  asio::awaitable<void> acceptLoop() {
    while (!ended) {
      auto [ec, peer] = co_await acceptor.async_accept(kTuple);
      if (ended || ec) co_return;
      if (!adoptOwnPipe(peer.native_handle())) {
        const auto n = ++transportCounters().localPipeStrangers;
        boost::system::error_code pe;
        const auto who = peer.remote_endpoint(pe);
        if (n <= 10 || n % 100 == 0) {  // rate-limited: a port scanner must not flood the log
          spdlog::warn("ACLK: refused a connection to the local MQTT pipe from {}:{} (not this "
                       "process; {} refused so far)",
                       who.address().to_string(), who.port(), n);
        }
        peer.close(pe);
        continue;
      }
      pipe = std::move(peer);  // TCP_NODELAY on both ends: see adoptOwnPipe
      pipeAccepted = true;
      boost::system::error_code ce;
      acceptor.close(ce);  // one connection per attempt
      asio::co_spawn(ioc, outboundPump(), asio::detached);
      co_return;
    }
  }

  // ---- Paho → cloud -----------------------------------------------------------------------

  void onOutboundPacket(MqttPacketType type) {
    if (type == MqttPacketType::kPingreq) {
      spdlog::debug("ACLK: PINGREQ from the MQTT client");
    }
    timers.packetSent(type == MqttPacketType::kPingreq, Clock::now());
  }

  void enqueue(std::string bytes) {
    outQueued += bytes.size();
    outQueue.push_back(std::move(bytes));
    startWriter();
  }

  void startWriter() {
    if (wsUp && !writing && !ended && !outQueue.empty()) {
      writing = true;
      asio::co_spawn(ioc, writer(), asio::detached);
    }
  }

  asio::awaitable<void> writer() {
    while (!ended && !closing && !outQueue.empty()) {
      std::string frame = std::move(outQueue.front());
      outQueue.pop_front();
      while (!outQueue.empty() && frame.size() + outQueue.front().size() <= kMaxFrameBytes) {
        frame += outQueue.front();
        outQueue.pop_front();
      }
      auto [ec, n] = co_await ws->async_write(asio::buffer(frame), kTuple);
      if (ended) break;
      if (ec) {
        fail(AclkStatus::kOfflineSocketError, "write to the cloud failed: " + ec.message());
        break;
      }
      outQueued -= frame.size();
      transportCounters().bytesOut += n;
      timers.progress(Clock::now());
      drained.cancel();
    }
    writing = false;
    if (!ended && pahoClosed && outQueue.empty()) {
      asio::co_spawn(ioc, closeGracefully(), asio::detached);
    }
  }

  asio::awaitable<void> outboundPump() {
    std::vector<uint8_t> buf(64 * 1024);
    while (true) {
      auto [ec, n] = co_await pipe.async_read_some(asio::buffer(buf), kTuple);
      if (ended) co_return;
      if (ec) {
        pahoClosed = true;
        if (!wsUp) {
          finish();
        } else if (!writing) {
          asio::co_spawn(ioc, closeGracefully(), asio::detached);
        }
        co_return;
      }
      std::string out;
      if (!outbound.feed(buf.data(), n, &out)) {
        fail(AclkStatus::kOfflineMqttProtocolError, "malformed MQTT packet from the MQTT client");
        co_return;
      }
      if (!out.empty()) {
        enqueue(std::move(out));
      }
      while (!ended && outQueued > kOutboundHighWater) {
        drained.expires_at(Clock::time_point::max());
        co_await drained.async_wait(kTuple);
      }
    }
  }

  // ---- cloud → Paho -----------------------------------------------------------------------

  bool onInboundHeader(uint8_t first, uint32_t remaining) {
    const auto type = static_cast<MqttPacketType>(first >> 4);
    // The limit is on the message (payload); a packet also holds its topic (up to 64 KiB) and a
    // few header bytes. A packet beyond limit + that allowance is refused from its header, before
    // any of it is buffered; a payload just over the limit is refused by the link once it is in.
    if (remaining > p.inboundLimitBytes + kPacketAllowance) {
      tooBig = true;
      return false;
    }
    if (type == MqttPacketType::kPingresp) {
      timers.pingrespReceived();
    } else if (type == MqttPacketType::kConnack) {
      mqttUp = true;
      setupTimer.cancel();
    }
    return true;
  }

  asio::awaitable<void> inboundPump() {
    std::vector<uint8_t> buf(kReadChunk);
    while (true) {
      auto [ec, n] = co_await ws->async_read_some(asio::buffer(buf), kTuple);
      if (ended || closing) co_return;
      if (ec) {
        if (ec == websocket::error::closed) {
          fail(AclkStatus::kOfflineClosedByRemote,
               "the cloud closed the WebSocket (code " + std::to_string(ws->reason().code) + ")");
        } else if (ec.category() == websocket::make_error_code(websocket::error::closed).category()) {
          fail(AclkStatus::kOfflineWsProtocolError, "WebSocket protocol error: " + ec.message());
        } else if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
          fail(AclkStatus::kOfflineClosedByRemote, "the cloud closed the connection");
        } else {
          fail(AclkStatus::kOfflineSocketError, "read from the cloud failed: " + ec.message());
        }
        co_return;
      }
      timers.progress(Clock::now());
      transportCounters().bytesIn += n;
      if (ws->got_text()) {
        spdlog::error("ACLK: WebSocket TEXT frame from \"{}\" skipped", p.host);
        continue;
      }
      if (!inbound.feed(buf.data(), n)) {
        if (tooBig) {
          ++transportCounters().inboundTooBig;
          fail(AclkStatus::kOfflineMessageTooBig,
               "an inbound MQTT packet exceeds " + std::to_string(p.inboundLimitBytes) + " bytes");
        } else {
          fail(AclkStatus::kOfflineMqttProtocolError, "malformed MQTT header from the cloud");
        }
        co_return;
      }
      auto toPaho = asio::buffer(buf.data(), n);
      if (!connackPassed) {
        beforeConnack.append(reinterpret_cast<const char*>(buf.data()), n);
        // Never negative: the scanner above has refused a malformed header. What is held is
        // bounded by the scanner's packet limit.
        const long size = firstPacketSize(beforeConnack);
        if (size == 0) {
          continue;  // the CONNACK is not whole yet
        }
        std::string connack = beforeConnack.substr(0, static_cast<size_t>(size));
        if (const auto server = liftReceiveMaximum(&connack)) {
          serverReceiveMaximum = *server;
          beforeConnack.replace(0, connack.size(), connack);
        }
        connackPassed = true;
        toPaho = asio::buffer(beforeConnack);
      }
      auto [wec, written] = co_await asio::async_write(pipe, toPaho, kTuple);
      (void)written;
      if (!beforeConnack.empty()) {
        std::string().swap(beforeConnack);
      }
      if (ended) co_return;
      if (wec) {  // Paho went away; its own close path follows
        pahoClosed = true;
        finish();
        co_return;
      }
    }
  }

  // ---- timers (§5.9) ------------------------------------------------------------------------

  asio::awaitable<void> ticker() {
    const auto period = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(1000), p.timers.pingIdle / 10);
    while (!ended) {
      tick.expires_after(period);
      co_await tick.async_wait(kTuple);
      if (ended || !wsUp || closing) continue;
      switch (timers.check(Clock::now(), mqttUp)) {
        case WireTimers::Verdict::kPingTimeout:
          fail(AclkStatus::kOfflinePingTimeout,
               "no PINGRESP within " + std::to_string(p.timers.pingResponse.count() / 1000) +
                   " s of the PINGREQ");
          co_return;
        case WireTimers::Verdict::kNoProgress:
          fail(AclkStatus::kOfflineNoIoProgress,
               "no I/O progress for " + std::to_string(p.timers.noProgress.count() / 1000) + " s");
          co_return;
        case WireTimers::Verdict::kSendPing:
          ++transportCounters().injectedPingreqs;
          spdlog::debug("ACLK: PINGREQ sent after {} ms without an outbound packet",
                        timers.idleBeforePing().count());
          enqueue(std::string("\xC0\x00", 2));
          break;
        case WireTimers::Verdict::kNone:
          break;
      }
    }
  }
};

WssTransport::WssTransport(TransportParams params, TlsErrorSink onTlsError)
    : impl_(std::make_shared<Impl>(std::move(params), std::move(onTlsError))) {}

WssTransport::~WssTransport() { stop(); }

int WssTransport::start(std::string* error) {
  Impl& i = *impl_;
  try {
    prepareTlsContext(i.tls, i.p.caFile);
    i.ws = std::make_unique<WsStream>(i.ioc, i.tls);
    const tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
    i.acceptor.open(loopback.protocol());
    i.acceptor.bind(loopback);
    i.acceptor.listen(4);
  } catch (const boost::system::system_error& e) {
    *error = std::string("cannot prepare the link's transport: ") + e.what();
    return 0;
  }
  const int port = i.acceptor.local_endpoint().port();
  spdlog::debug("ACLK: local MQTT pipe for the MQTT client on 127.0.0.1:{}", port);
  i.setupTimer.expires_after(i.p.timers.setup);
  i.setupTimer.async_wait([&i](boost::system::error_code ec) {
    if (!ec && !i.mqttUp) {
      i.fail(AclkStatus::kOfflineConnectTimeout, "TLS, WebSocket and CONNACK took longer than " +
                                                    std::to_string(i.p.timers.setup.count() / 1000) +
                                                    " s");
    }
  });
  asio::co_spawn(i.ioc, i.acceptLoop(), asio::detached);
  asio::co_spawn(i.ioc, i.setup(), asio::detached);
  asio::co_spawn(i.ioc, i.ticker(), asio::detached);
  i.started = true;
  i.thread = std::thread([&i] { i.ioc.run(); });
  return port;
}

std::optional<AclkStatus> WssTransport::endReason() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->reason;
}

std::optional<uint16_t> WssTransport::serverReceiveMaximum() const {
  const int v = impl_->serverReceiveMaximum.load();
  return v < 0 ? std::nullopt : std::optional<uint16_t>(static_cast<uint16_t>(v));
}

std::string WssTransport::endDetail() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->detail;
}

void WssTransport::stop() {
  Impl& i = *impl_;
  if (!i.started) {
    return;
  }
  i.started = false;
  asio::post(i.ioc, [&i] {
    if (i.ended) return;
    if (i.wsUp) {
      boost::system::error_code ec;
      i.pipe.close(ec);
      i.pahoClosed = true;
      if (!i.writing && !i.closing) {
        asio::co_spawn(i.ioc, i.closeGracefully(), asio::detached);
      }
      // A safety net in case the close never completes.
      i.hardStop.expires_after(i.p.timers.closeFlush + std::chrono::seconds(1));
      i.hardStop.async_wait([&i](boost::system::error_code e) {
        if (!e) i.ioc.stop();
      });
    } else {
      i.finish();
    }
  });
  i.thread.join();
}

}  // namespace aclkd::aclk::transport
