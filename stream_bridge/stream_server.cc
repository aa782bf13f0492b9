#include "stream_bridge/stream_server.h"

#include <algorithm>
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <deque>
#include <future>
#include <set>

#include "common/log_limiter.h"
#include "common/uuid.h"
#include "common/untrusted_text.h"
#include "stream_bridge/handshake.h"
#include "stream_bridge/lz4_stream.h"
#include "stream_bridge/stream_info.h"
#include "stream_bridge/stream_parser.h"
#include "stream_bridge/stream_path.h"
#include "web/http_request.h"
#include "web/live_channels.h"
#include "web/websocket.h"

#include <nlohmann/json.hpp>

namespace aclkd::stream_bridge {
namespace {

using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadBuffer = 64 * 1024;
// What the bridge implements (stream-protocol.md §4.3): labels, claim ids, chart labels,
// functions (parsed, never called), replication (answered empty), BINARY (lines may span
// blocks: the parser reassembles them) and LZ4. Not INTERPOLATED/IEEE754/SLOTS: a new child then
// falls back to BEGIN/SET/END, which the parser knows. As a v2 parent: NODEID (the cloud's node
// id goes down to the child) and PATHS (the child's stream path is kept and sent back with the
// gateway's hop). Not PROGRESS/DYNCFG/ML_MODELS: the gateway calls no functions and keeps no
// models.
constexpr uint64_t kSupported = cap::kV1 | cap::kV2 | cap::kVN | cap::kVCaps | cap::kHLabels |
                                cap::kClaim | cap::kCLabels | cap::kFunctions |
                                cap::kReplication | cap::kBinary | cap::kLz4 | cap::kNodeId |
                                cap::kPaths;

}  // namespace

using web::encodeWsFrame;
using web::kWsCloseProtocolError;
using web::webSocketAccept;
using web::WsFrame;
using web::WsFrameReader;
using web::WsOpcode;
using web::wsClosePayload;

struct StreamServer::Impl {
  class Connection;

  Impl(BridgeOptions o, StreamConf c, std::shared_ptr<NodeRegistry> r)
      : options(std::move(o)), conf(std::make_shared<StreamConf>(std::move(c))),
        registry(std::move(r)), allowFrom(SimplePattern::parse(options.allowStreamingFrom)),
        allowConnections(SimplePattern::parse(options.allowConnectionsFrom)),
        acceptor(io), cleanupTimer(io), liveTimer(io), identityTimer(io) {}

  std::shared_ptr<const StreamConf> currentConf() const {
    std::lock_guard lock(mutex);
    return conf;
  }

  void accept();
  // Once a second: render each channel some live client holds, once, and push what changed.
  void scheduleLiveTick() { everySecond(liveTimer, &Impl::liveTick); }
  void liveTick();
  // Once a second: the cloud identity (claim id, node ids) polled once, handed to every stream.
  void scheduleIdentityTick() { everySecond(identityTimer, &Impl::identityTick); }
  void identityTick();
  // The connections for which `which` holds, kept alive while the caller works on them.
  std::vector<std::shared_ptr<Connection>> aliveWhere(bool (Connection::*which)() const);
  void everySecond(asio::steady_timer& timer, void (Impl::*tick)()) {
    timer.expires_after(std::chrono::seconds(1));
    timer.async_wait([this, &timer, tick](std::error_code ec) {
      if (ec) return;
      (this->*tick)();
      everySecond(timer, tick);
    });
  }
  // `GET /api/v3/stream_info?machine_guid=…`, answered as a v2 parent does (stream_info.h).
  aclk::LocalHttpResponse streamInfo(const std::string& target);

  void scheduleCleanup() {
    // Checked once a minute, or as often as the delay itself when it is shorter.
    cleanupTimer.expires_after(std::chrono::seconds(
        std::clamp<long long>(options.ephemeralCleanupAfter.count(), 1, 60)));
    cleanupTimer.async_wait([this](std::error_code ec) {
      if (ec) return;
      registry->cleanupEphemeral(static_cast<std::time_t>(options.ephemeralCleanupAfter.count()));
      scheduleCleanup();
    });
  }
  // Degraded modes of one peer: a warning per peer and reason, at most once a minute.
  void warnLimited(const std::string& peerIp, const std::string& reason, const std::string& text) {
    if (const auto suppressed = limiter.admit(peerIp + " " + reason)) {
      spdlog::warn("STREAM: {}{}", text, suppressedSuffix(*suppressed));
    } else {
      spdlog::debug("STREAM: {}", text);
    }
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

  BridgeOptions options;
  mutable std::mutex mutex;
  std::shared_ptr<const StreamConf> conf;  // guarded by mutex
  std::set<Connection*> connections;       // guarded by mutex
  std::set<std::string> warned;            // guarded by mutex
  LogLimiter limiter;
  std::shared_ptr<NodeRegistry> registry;
  SimplePattern allowFrom;
  SimplePattern allowConnections;
  BridgeCounters counters;

  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer cleanupTimer;
  asio::steady_timer liveTimer;
  asio::steady_timer identityTimer;
  CloudIdentity identity;  // the last polled; loop thread only
  int64_t startedMs = 0;   // the gateway's start, for its hop in stream paths
  unsigned liveTicks = 0;
  std::unique_ptr<asio::ssl::context> tlsContext;
  std::thread thread;
  int boundPort = 0;
  // One read buffer and one decompression buffer for every plain connection: all handlers run on
  // the loop thread and consume what they read before returning, so a thousand idle children cost
  // no buffer each. (TLS connections keep their own: the TLS layer reads ahead.)
  std::vector<char> sharedRead = std::vector<char>(kReadBuffer);
  std::string sharedText;
};

class StreamServer::Impl::Connection : public std::enable_shared_from_this<Connection>,
                                       public StreamEvents {
 public:
  Connection(Impl& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(server.io) {
    std::error_code ec;
    socket_.non_blocking(true, ec);
    const auto remote = socket_.remote_endpoint(ec);
    peerIp_ = ec ? "unknown" : remote.address().to_string();
    peer_ = ec ? "unknown" : peerIp_ + ":" + std::to_string(remote.port());
    since_ = std::time(nullptr);
    started_ = SteadyClock::now();
  }

  ~Connection() override {
    std::lock_guard lock(server_.mutex);
    server_.connections.erase(this);
  }

  void start() {
    {
      std::lock_guard lock(server_.mutex);
      server_.connections.insert(this);
    }
    armTimer(server_.options.handshakeTimeout,
             "no complete request within " +
                 std::to_string(server_.options.handshakeTimeout.count()) + " s",
             "handshake-timeout");
    // Sniff the first byte: a TLS record starts below 0x18, `STREAM` with 'S' (§6).
    auto self = shared_from_this();
    socket_.async_wait(tcp::socket::wait_read, [self](std::error_code ec) {
      if (ec) return self->close();
      unsigned char first = 0;
      std::error_code pe;
      const size_t n = self->socket_.receive(asio::buffer(&first, 1), tcp::socket::message_peek, pe);
      if (pe || n == 0) return self->close();
      self->beginSession(first < 0x18);
    });
  }

  StreamView view() const {
    StreamView v;
    v.peer = peer_;
    v.machineGuid = request_.machineGuid;
    v.hostname = request_.hostname;
    v.hops = request_.hops;
    v.compressed = decoder_ != nullptr;
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

  bool streaming() const { return parser_ != nullptr; }
  bool live() const { return live_ != nullptr; }
  const std::map<std::string, size_t>& subscriptions() const { return live_->subscriptions(); }

  // A tick of the server: push the channels whose JSON changed, ping every 25 s.
  void pushChanged(const std::map<std::string, std::string>& current, bool ping) {
    if (!live_ || closed_) return;
    for (const auto& push : live_->pushChanged(current)) sendWs(push);
    if (ping) send(encodeWsFrame(WsOpcode::kPing, "aclkd"));
  }

  // ---- StreamEvents: forwarded to the registry, plus the replication answer -----------------
  // The stream's text is untrusted: what reaches the registry (and so the views, the logs and
  // the cloud) is escaped here, the boundary. clean() costs a scan and no copy for clean text,
  // the common case; chart ids are escaped the same way everywhere so they still match.
  std::string_view clean(std::string_view v, size_t slot) {
    if (isCleanText(v)) return v;
    scratch_[slot] = escapeUntrusted(v);
    return scratch_[slot];
  }
  void onClaimedId(std::string_view g, std::string_view c) override {
    host_->onClaimedId(clean(g, 0), clean(c, 1));
  }
  void onHostLabel(std::string_view n, std::string_view v, uint32_t s) override {
    host_->onHostLabel(clean(n, 0), clean(v, 1), s);
  }
  void onHostLabelsCommit() override { host_->onHostLabelsCommit(); }
  void onChart(const ChartDefinition& c) override {
    ChartDefinition d = c;
    size_t slot = 0;
    for (auto* f : {&d.id, &d.name, &d.title, &d.units, &d.family, &d.context, &d.chartType,
                    &d.options, &d.plugin, &d.module}) {
      *f = clean(*f, slot++);
    }
    host_->onChart(d);
  }
  void onChartLabel(std::string_view c, std::string_view n, std::string_view v,
                    uint32_t s) override {
    host_->onChartLabel(clean(c, 0), clean(n, 1), clean(v, 2), s);
  }
  void onChartLabelsCommit(std::string_view c) override {
    host_->onChartLabelsCommit(clean(c, 0));
  }
  void onDimension(std::string_view c, const DimensionDefinition& d) override {
    DimensionDefinition e = d;
    e.id = clean(d.id, 1);
    e.name = clean(d.name, 2);
    e.algorithm = clean(d.algorithm, 3);
    e.options = clean(d.options, 4);
    host_->onDimension(clean(c, 0), e);
  }
  void onFunction(std::string_view c, std::string_view n) override {
    host_->onFunction(clean(c, 0), clean(n, 1));
  }
  void onVariable(std::string_view c, std::string_view n, std::string_view v) override {
    host_->onVariable(clean(c, 0), clean(n, 1), clean(v, 2));
  }
  void onChartDefinitionEnd(std::string_view c, int64_t f, int64_t l, int64_t now) override {
    host_->onChartDefinitionEnd(clean(c, 0), f, l, now);
    std::string line = "REPLAY_CHART \"";
    line.append(c);
    line += "\" \"true\" 0 0\n";
    send(std::move(line));
  }
  void onSamples(std::string_view c, int64_t t) override { host_->onSamples(clean(c, 0), t); }
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
    childPath_ = std::move(*hops);
    syncIdentity(server_.identity);
  }

  // ---- what a v2 parent sends down ---------------------------------------------------------
  // NODE_ID once the cloud gave this host a node id (again if it changes); the stream path
  // with the gateway's hop once the child sent its own (again when either changes). Only after
  // the child spoke: the prompt travels alone (stream-protocol.md §3.3, its own read at the
  // child), and every command after it is one whole line. No empty line goes before the first
  // one: a v2.10.4 child logs an empty line as "received unknown command over connection:
  // (unset)" at error level (seen in the lab), and a real parent sends none.
  void syncIdentity(const CloudIdentity& id) {
    if (closed_ || !parser_ || !spoke_) return;
    const auto node = id.nodeIds.find(request_.machineGuid);
    if ((negotiated_ & cap::kNodeId) && node != id.nodeIds.end() && isUuid(node->second) &&
        isUuid(id.claimId)) {
      std::string line = nodeIdCommand(id.claimId, node->second, id.cloudUrl);
      if (line != sentNodeId_) {
        sentNodeId_ = line;
        send(std::move(line));
      }
    }
    if ((negotiated_ & cap::kPaths) && childPath_) {
      PathHop self;
      self.hostname = server_.options.ownHostname;
      self.hostId = server_.options.ownMachineGuid;
      const auto own = id.nodeIds.find(self.hostId);
      self.nodeId = own != id.nodeIds.end() ? own->second : std::string(kZeroUuid);
      self.claimId = isUuid(id.claimId) ? id.claimId : std::string(kZeroUuid);
      self.hops = request_.hops;
      self.since = static_cast<uint64_t>(since_);
      self.startTime = server_.startedMs;
      self.capabilities = capabilityNames(kSupported);
      if (isUuid(id.claimId)) self.flags.emplace_back("aclk");
      std::string payload = renderStreamPath(*childPath_, self);
      if (payload != sentPath_) {
        sentPath_ = payload;
        send(streamPathBlock(payload));
      }
    }
  }
  void onReplicationEnd(std::string_view c, int64_t f, int64_t l) override {
    host_->onReplicationEnd(clean(c, 0), f, l);
  }
  void onUnknownKeyword(std::string_view keyword) override {
    const std::string shown = escapeUntrusted(keyword);
    server_.warnOnce("keyword " + shown, "ignoring unknown keyword '" + shown + "' from " + peer_ +
                                             " (logged once per keyword)");
  }

 private:
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
    if (!tls) return readHandshake();
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *server_.tlsContext);
    auto self = shared_from_this();
    tls_->async_handshake(asio::ssl::stream_base::server, [self](std::error_code ec) {
      if (ec) {
        return self->drop("tls-handshake",
                          "TLS handshake with " + self->peer_ + " failed: " + ec.message(), false);
      }
      self->readHandshake();
    });
  }

  // Reads what is there into readData(); with plain sockets it waits for readiness first and then
  // reads into the shared buffer, so no buffer is held while a child is idle.
  template <typename Handler>
  void readSome(Handler handler) {
    if (tls_) {
      if (tlsBuffer_.empty()) tlsBuffer_.resize(kReadBuffer);
      tls_->async_read_some(asio::buffer(tlsBuffer_), std::move(handler));
      return;
    }
    auto self = shared_from_this();
    socket_.async_wait(tcp::socket::wait_read, [self, handler](std::error_code ec) mutable {
      if (ec) return handler(ec, 0);
      const size_t n = self->socket_.read_some(asio::buffer(self->server_.sharedRead), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        return self->readSome(std::move(handler));
      }
      handler(ec, n);
    });
  }

  const char* readData() const { return tls_ ? tlsBuffer_.data() : server_.sharedRead.data(); }

  void readHandshake() {
    auto self = shared_from_this();
    readSome([self](std::error_code ec, size_t n) {
      if (ec) return self->close();
      self->wireBytes_ += n;
      self->handshake_.append(self->readData(), n);
      // The first request decides, parsed once: `STREAM …` is the bridge's, anything else is an
      // HTTP request for web/ (Boost.Beast's parser).
      const auto& h = self->handshake_;
      const size_t probe = std::min<size_t>(h.size(), 7);
      if (h.compare(0, probe, "STREAM ", 0, probe) != 0) {
        auto parsed = web::parseHttpRequest(h, kMaxHandshakeBytes);
        if (parsed.status != 0) {
          return self->replyHttp(parsed.status,
                                 "{\"error\":" + nlohmann::json(parsed.error).dump() + "}");
        }
        if (!parsed.request) return self->readHandshake();
        return self->onHttpRequest(*parsed.request);
      }
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
    });
  }

  static const char* reason(int code) {
    switch (code) {
      case 200: return "OK";
      case 400: return "Bad Request";
      case 403: return "Forbidden";
      case 404: return "Not Found";
      case 405: return "Method Not Allowed";
      case 431: return "Request Header Fields Too Large";
      case 503: return "Service Unavailable";
      default: return "Error";
    }
  }

  // One HTTP request (GET or HEAD), one response, then close.
  void onHttpRequest(const web::HttpRequest& req) {
    aclk::LocalHttpResponse resp;
    const bool streamInfo = req.target.rfind("/api/v3/stream_info", 0) == 0;
    if (streamInfo && (server_.allowFrom.empty() || server_.allowFrom.matches(peerIp_))) {
      // A child asks before it streams: whoever may stream may ask.
      resp = server_.streamInfo(req.target);
    } else if (!server_.allowConnections.empty() && !server_.allowConnections.matches(peerIp_)) {
      resp.code = 403;
      resp.body = "{\"error\":\"not allowed by [web] allow connections from\"}";
    } else if (req.method != "GET" && req.method != "HEAD") {
      resp.code = 405;
      resp.body = "{\"error\":\"only GET and HEAD\"}";
    } else if (req.wantsWebSocket() && server_.options.channelData) {
      return upgradeToWebSocket(req.header("sec-websocket-key"));
    } else if (!server_.options.http) {
      resp.code = 404;
      resp.body = "{\"error\":\"no HTTP API\"}";
    } else {
      resp = server_.options.http("GET", req.target);
    }
    std::string out = "HTTP/1.1 " + std::to_string(resp.code) + " " + reason(resp.code) + "\r\n";
    out += "Content-Type: " + resp.contentType + "\r\n";
    out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
    out += "Cache-Control: no-cache, no-store, must-revalidate\r\n";
    out += "Connection: close\r\n\r\n";
    if (req.method != "HEAD") out += resp.body;
    closeAfterWrite_ = true;
    armTimer(std::chrono::seconds(10), "");
    send(std::move(out));
  }

  // A response without a request worth routing (431): sent, then the connection closes.
  void replyHttp(int code, const std::string& body) {
    server_.warnLimited(peerIp_, "http-" + std::to_string(code),
                        "HTTP request from " + peer_ + " answered " + std::to_string(code) + " " +
                            reason(code) + ": " + body);
    std::string out = "HTTP/1.1 " + std::to_string(code) + " " + reason(code) + "\r\n";
    out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
    closeAfterWrite_ = true;
    armTimer(std::chrono::seconds(10), "");
    send(std::move(out));
  }

  // ---- live channels (the WebSocket side) ----------------------------------------------
  void upgradeToWebSocket(const std::string& clientKey) {
    live_ = std::make_unique<web::LiveChannels>(server_.options.channelData);
    server_.counters.liveClients++;
    std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                      webSocketAccept(clientKey) + "\r\n\r\n";
    std::string().swap(handshake_);
    send(std::move(out));
    armTimer(std::chrono::seconds(90), "no pong from a live client for 90 s", "live-no-pong");
    readWs();
  }

  void readWs() {
    auto self = shared_from_this();
    readSome([self](std::error_code ec, size_t n) {
      if (ec) return self->close();
      self->wsReader_.feed(std::string_view(self->readData(), n));
      std::string error;
      uint16_t code = kWsCloseProtocolError;
      while (auto frame = self->wsReader_.next(&error, &code)) {
        self->onWsFrame(*frame);
        if (self->closeAfterWrite_) return;
      }
      if (!error.empty()) {
        self->server_.warnLimited(self->peerIp_, "live-protocol",
                                  "live client " + self->peer_ + ": " + error);
        self->send(encodeWsFrame(WsOpcode::kClose, wsClosePayload(code)));
        self->closeAfterWrite_ = true;
        return;
      }
      self->readWs();
    });
  }

  void sendWs(const std::string& text) { send(encodeWsFrame(WsOpcode::kText, text)); }

  // One whole message or control frame (the reader reassembled fragments and refused what
  // RFC 6455 forbids).
  void onWsFrame(const WsFrame& f) {
    switch (f.opcode) {
      case WsOpcode::kPing:
        send(encodeWsFrame(WsOpcode::kPong, f.payload));
        return;
      case WsOpcode::kPong:
        armTimer(std::chrono::seconds(90), "no pong from a live client for 90 s", "live-no-pong");
        return;
      case WsOpcode::kClose:
        // Echo the client's status code (§5.5.1), or none when it sent none.
        send(encodeWsFrame(WsOpcode::kClose, f.payload.substr(0, 2)));
        closeAfterWrite_ = true;
        return;
      case WsOpcode::kText:
        sendWs(live_->onCommand(f.payload));
        return;
      default:  // binary: the channel protocol is JSON text (1003, unsupported data)
        send(encodeWsFrame(WsOpcode::kClose, wsClosePayload(1003)));
        closeAfterWrite_ = true;
        return;
    }
  }

  void onRequest(const std::string& rest) {
    std::string error;
    auto request = parseStreamRequest(handshake_, &error);
    if (!request) {
      return refuse(std::string(kReplyNotPermitted), "invalid STREAM request: " + error);
    }
    request_ = *request;
    const std::string who = "[receive from [" + peerIp_ + "]:" + request_.hostname + "]";
    if (!server_.allowFrom.empty() && !server_.allowFrom.matches(peerIp_)) {
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
    const bool hasProtocol = request_.systemInfo.count("NETDATA_PROTOCOL_VERSION") > 0;
    negotiated_ = negotiate(expandVersion(request_.ver, hasProtocol), kSupported,
                            server_.options.compression);
    if (negotiated_ & cap::kLz4) decoder_ = std::make_unique<Lz4StreamDecoder>();
    parser_ = std::make_unique<StreamParser>(*this, server_.options.maxLineBytes);
    server_.counters.accepted++;
    server_.counters.wireBytes += wireBytes_;  // the handshake's bytes
    spdlog::info("STREAM [receive from [{}]:{}]: accepted '{}' ({}), hops {}, capabilities {}{}",
                 peerIp_, request_.hostname, request_.machineGuid, request_.version, request_.hops,
                 negotiated_, decoder_ ? ", LZ4" : "");
    // The prompt travels alone: nothing else is written before the child speaks (§3.3).
    send(successPrompt(negotiated_));
    armTimer(server_.options.idleTimeout, "no data for the idle timeout", "idle-timeout");
    std::string().swap(handshake_);
    request_.systemInfo.clear();  // now in the registry; the view needs only names and hops
    if (!rest.empty()) {
      const bool ok = consume(rest.data(), rest.size());
      syncTotals();
      if (!ok) return;
      spoke_ = true;
      syncIdentity(server_.identity);
    }
    readStream();
  }

  void readStream() {
    auto self = shared_from_this();
    readSome([self](std::error_code ec, size_t n) {
      if (ec) {
        if (ec != asio::error::operation_aborted) {
          spdlog::info("STREAM [receive from [{}]:{}]: connection closed ({})", self->peerIp_,
                       self->request_.hostname, ec.message());
        }
        return self->close();
      }
      self->wireBytes_ += n;
      self->server_.counters.wireBytes += n;
      self->armTimer(self->server_.options.idleTimeout, "no data for the idle timeout",
                     "idle-timeout");
      const bool ok = self->consume(self->readData(), n);
      self->syncTotals();
      if (!ok) return;
      if (!self->spoke_ && n > 0) {
        self->spoke_ = true;
        self->syncIdentity(self->server_.identity);
      }
      self->readStream();
    });
  }

  // Decompresses and parses one piece; false when the stream had to be dropped.
  bool consume(const char* data, size_t n) {
    std::string error;
    if (decoder_) {
      auto& text = server_.sharedText;
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
    auto self = shared_from_this();
    auto done = [self](std::error_code ec, size_t) {
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
    armTimer(std::chrono::seconds(5), "");
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

  // `why` empty: close quietly when the timer fires (a reply was sent); else drop for `reason`.
  void armTimer(std::chrono::seconds after, std::string why, std::string reason = "timeout") {
    timer_.expires_after(after);
    std::weak_ptr<Connection> weak = shared_from_this();
    timer_.async_wait([weak, why, reason](std::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        if (why.empty()) return self->close();
        const std::string what = self->parser_ ? "stream" : "connection";
        self->drop(reason, what + " from " + self->peer_ + " dropped: " + why, true);
      }
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (live_) server_.counters.liveClients--;
    timer_.cancel();
    std::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    host_.reset();  // the host goes offline
  }

  Impl& server_;
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer timer_;
  std::vector<char> tlsBuffer_;
  std::string handshake_;
  std::string peer_;
  std::string peerIp_;
  StreamRequest request_;
  uint64_t negotiated_ = 0;
  std::unique_ptr<Lz4StreamDecoder> decoder_;
  std::unique_ptr<StreamParser> parser_;
  std::unique_ptr<NodeRegistry::Stream> host_;
  std::deque<std::string> outbox_;
  std::unique_ptr<web::LiveChannels> live_;  // set once upgraded to a live WebSocket
  WsFrameReader wsReader_;
  bool closeAfterWrite_ = false;
  bool closed_ = false;
  bool spoke_ = false;        // the child sent something after the prompt
  std::string sentNodeId_;    // the NODE_ID line last sent
  std::optional<std::vector<PathHop>> childPath_;  // the child's STREAM_PATH, once sent
  std::string sentPath_;      // the path payload last sent back
  uint64_t wireBytes_ = 0;
  ParserStats reported_;  // parser totals already added to the server's monotonic counters
  std::array<std::string, 10> scratch_;  // escaped copies for clean()
  std::time_t since_ = 0;
  SteadyClock::time_point started_;
};

std::vector<std::shared_ptr<StreamServer::Impl::Connection>> StreamServer::Impl::aliveWhere(
    bool (Connection::*which)() const) {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard lock(mutex);
  for (auto* c : connections) {
    if (!(c->*which)()) continue;
    if (auto alive = c->weak_from_this().lock()) out.push_back(std::move(alive));
  }
  return out;
}

void StreamServer::Impl::liveTick() {
  if (!options.channelData) return;
  const auto clients = aliveWhere(&Connection::live);
  if (clients.empty()) return;
  std::map<std::string, std::string> current;
  for (const auto& c : clients) {
    for (const auto& [channel, hash] : c->subscriptions()) {
      if (current.count(channel)) continue;
      std::string error;
      if (auto data = options.channelData(channel, &error)) current[channel] = std::move(*data);
    }
  }
  const bool ping = ++liveTicks % 25 == 0;
  for (const auto& c : clients) c->pushChanged(current, ping);
}

void StreamServer::Impl::identityTick() {
  if (!options.cloudIdentity) return;
  const auto streams = aliveWhere(&Connection::streaming);
  if (streams.empty()) return;  // nobody to tell: the link's state is not even read
  identity = options.cloudIdentity();
  for (const auto& c : streams) c->syncIdentity(identity);
}

aclk::LocalHttpResponse StreamServer::Impl::streamInfo(const std::string& target) {
  const std::string guid = streamInfoMachineGuid(target);
  const auto status = registry->hostStatus(guid);
  StreamInfoFacts f;
  f.gatewayGuid = options.ownMachineGuid;
  f.nodes = status.hosts + 1;  // and the gateway itself, as a parent counts its localhost
  {
    std::lock_guard lock(mutex);
    for (auto* c : connections) f.receivers += c->streaming() ? 1 : 0;
  }
  f.nonce = static_cast<uint32_t>(std::hash<std::string>{}(newUuid()));
  if (!guid.empty() && guid == options.ownMachineGuid) {
    f.host = HostKnowledge::kLocalhost;
  } else if (status.live) {
    f.host = HostKnowledge::kOnline;
  } else if (status.known) {
    f.host = HostKnowledge::kOffline;
  }
  f.firstSeen = status.firstSeen;
  f.lastSeen = status.live ? std::time(nullptr) : status.lastSeen;
  aclk::LocalHttpResponse resp;
  resp.code = 200;
  resp.contentType = "application/json";
  resp.body = renderStreamInfo(f);
  return resp;
}

void StreamServer::Impl::accept() {
  acceptor.async_accept([this](std::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      spdlog::warn("STREAM: accept failed: {}", ec.message());
      return accept();
    }
    size_t open = 0;
    {
      std::lock_guard lock(mutex);
      open = connections.size();
    }
    if (open >= options.maxConnections) {
      counters.overLimit++;
      warnOnce("limit", "connection limit of " + std::to_string(options.maxConnections) +
                            " reached; closing new connections (logged once)");
      std::error_code ignored;
      socket.close(ignored);
      return accept();
    }
    asio::error_code ignored;
    socket.set_option(asio::socket_base::keep_alive(true), ignored);
    std::make_shared<Connection>(*this, std::move(socket))->start();
    accept();
  });
}

StreamServer::StreamServer(BridgeOptions options, StreamConf conf,
                           std::shared_ptr<NodeRegistry> registry)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(conf), std::move(registry))) {}

StreamServer::~StreamServer() { stop(); }

std::string StreamServer::start() {
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
    s.acceptor.listen(asio::socket_base::max_listen_connections);
    s.boundPort = s.acceptor.local_endpoint().port();
  } catch (const std::exception& e) {
    return "cannot listen for streams on " + s.options.bindAddress + ":" +
           std::to_string(s.options.port) + ": " + e.what();
  }
  s.accept();
  s.scheduleCleanup();
  s.scheduleLiveTick();
  s.startedMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  s.scheduleIdentityTick();
  s.thread = std::thread([&s] {
    try {
      s.io.run();
    } catch (const std::exception& e) {
      spdlog::critical("STREAM: event loop failed: {}", e.what());
    }
  });
  spdlog::info("STREAM: listening on {}:{}{}", s.options.bindAddress, s.boundPort,
               s.options.tls == TlsMode::kForce      ? " (TLS forced)"
               : s.options.tls == TlsMode::kOptional ? " (TLS optional)"
                                                     : "");
  return "";
}

void StreamServer::stop() {
  auto& s = *impl_;
  if (!s.thread.joinable()) return;
  asio::post(s.io, [&s] {
    std::error_code ec;
    s.acceptor.close(ec);
  });
  s.io.stop();
  s.thread.join();
}

void StreamServer::setConf(StreamConf conf) {
  std::lock_guard lock(impl_->mutex);
  impl_->conf = std::make_shared<StreamConf>(std::move(conf));
}

std::vector<StreamView> StreamServer::streams() const {
  // Views are read on the loop thread so that no connection changes under the reader.
  auto& s = *impl_;
  const auto collect = [&s] {
    std::vector<StreamView> out;
    std::lock_guard lock(s.mutex);
    for (auto* c : s.connections) {
      if (c->streaming()) out.push_back(c->view());
    }
    return out;
  };
  // The HTTP API runs on the loop thread itself: no hop needed (and waiting would deadlock).
  if (std::this_thread::get_id() == s.thread.get_id()) return collect();
  // Shared: if the loop is slow to answer, the late handler must not touch a dead frame.
  auto result = std::make_shared<std::promise<std::vector<StreamView>>>();
  auto future = result->get_future();
  asio::post(s.io, [collect, result] { result->set_value(collect()); });
  if (future.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return {};
  return future.get();
}

const BridgeCounters& StreamServer::counters() const { return impl_->counters; }

int StreamServer::port() const { return impl_->boundPort; }

std::string parseBindTo(const std::string& text, std::string* address, int* port, TlsMode* tls) {
  std::string main = text;
  *tls = TlsMode::kNone;
  if (const auto caret = text.find('^'); caret != std::string::npos) {
    main = text.substr(0, caret);
    const auto opt = text.substr(caret + 1);
    if (opt == "SSL=optional") {
      *tls = TlsMode::kOptional;
    } else if (opt == "SSL=force") {
      *tls = TlsMode::kForce;
    } else {
      return "'" + opt + "' after '^' must be SSL=optional or SSL=force";
    }
  }
  const auto colon = main.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return "'" + main + "' is not address:port (e.g. 127.0.0.1:19999)";
  }
  *address = main.substr(0, colon);
  if (address->size() > 2 && address->front() == '[' && address->back() == ']') {
    *address = address->substr(1, address->size() - 2);
  }
  if (*address == "*") *address = "0.0.0.0";
  if (*address == "localhost") *address = "127.0.0.1";
  try {
    size_t used = 0;
    *port = std::stoi(main.substr(colon + 1), &used);
    if (used != main.size() - colon - 1 || *port < 0 || *port > 65535) throw std::out_of_range("");
  } catch (...) {
    return "port '" + main.substr(colon + 1) + "' is not a number in 0..65535";
  }
  std::error_code ec;
  asio::ip::make_address(*address, ec);
  if (ec) return "'" + *address + "' is not an IP address";
  return "";
}

}  // namespace aclkd::stream_bridge
