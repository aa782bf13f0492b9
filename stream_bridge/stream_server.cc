#include "stream_bridge/stream_server.h"

#include <algorithm>
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <future>
#include <set>

#include "stream_bridge/handshake.h"
#include "stream_bridge/lz4_stream.h"
#include "stream_bridge/stream_parser.h"
#include "stream_bridge/websocket.h"

#include <nlohmann/json.hpp>

namespace aclkd::stream_bridge {
namespace {

using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadBuffer = 64 * 1024;
// What the bridge implements (stream-protocol.md §4.3): labels, claim ids, chart labels,
// functions (parsed, never called), replication (answered empty), BINARY (lines may span
// blocks: the parser reassembles them) and LZ4. Not INTERPOLATED/IEEE754/SLOTS: a new child then
// falls back to BEGIN/SET/END, which the parser knows.
constexpr uint64_t kSupported = cap::kV1 | cap::kV2 | cap::kVN | cap::kVCaps | cap::kHLabels |
                                cap::kClaim | cap::kCLabels | cap::kFunctions |
                                cap::kReplication | cap::kBinary | cap::kLz4;

}  // namespace

struct StreamServer::Impl {
  class Connection;

  Impl(BridgeOptions o, StreamConf c, std::shared_ptr<NodeRegistry> r)
      : options(std::move(o)), conf(std::make_shared<StreamConf>(std::move(c))),
        registry(std::move(r)), allowFrom(SimplePattern::parse(options.allowStreamingFrom)),
        allowConnections(SimplePattern::parse(options.allowConnectionsFrom)),
        acceptor(io), cleanupTimer(io), liveTimer(io) {}

  std::shared_ptr<const StreamConf> currentConf() const {
    std::lock_guard lock(mutex);
    return conf;
  }

  void accept();
  // Once a second: render each channel some live client holds, once, and push what changed.
  void scheduleLiveTick() {
    liveTimer.expires_after(std::chrono::seconds(1));
    liveTimer.async_wait([this](std::error_code ec) {
      if (ec) return;
      liveTick();
      scheduleLiveTick();
    });
  }
  void liveTick();

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
  std::shared_ptr<NodeRegistry> registry;
  SimplePattern allowFrom;
  SimplePattern allowConnections;
  BridgeCounters counters;

  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer cleanupTimer;
  asio::steady_timer liveTimer;
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
    armTimer(server_.options.handshakeTimeout, "no complete STREAM request in time");
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
      const double secs = std::chrono::duration<double>(SteadyClock::now() - started_).count();
      v.samplesPerSecond = secs > 0 ? static_cast<double>(v.samples) / secs : 0;
    }
    return v;
  }

  bool streaming() const { return parser_ != nullptr; }
  bool live() const { return live_; }
  const std::map<std::string, size_t>& subscriptions() const { return subscriptions_; }

  // A tick of the server: push the channels whose JSON changed, ping every 25 s.
  void pushChanged(const std::map<std::string, std::string>& current, bool ping) {
    if (!live_ || closed_) return;
    for (auto& [channel, lastHash] : subscriptions_) {
      const auto it = current.find(channel);
      if (it == current.end()) continue;
      const size_t h = std::hash<std::string>{}(it->second);
      if (h == lastHash) continue;
      lastHash = h;
      sendWs("{\"push\":{\"channel\":" + nlohmann::json(channel).dump() +
             ",\"data\":" + it->second + "}}");
    }
    if (ping) send(encodeWsFrame(WsOpcode::kPing, "aclkd"));
  }

  // ---- StreamEvents: forwarded to the registry, plus the replication answer -----------------
  void onClaimedId(std::string_view g, std::string_view c) override { host_->onClaimedId(g, c); }
  void onHostLabel(std::string_view n, std::string_view v, uint32_t s) override {
    host_->onHostLabel(n, v, s);
  }
  void onHostLabelsCommit() override { host_->onHostLabelsCommit(); }
  void onChart(const ChartDefinition& c) override { host_->onChart(c); }
  void onChartLabel(std::string_view c, std::string_view n, std::string_view v,
                    uint32_t s) override {
    host_->onChartLabel(c, n, v, s);
  }
  void onChartLabelsCommit(std::string_view c) override { host_->onChartLabelsCommit(c); }
  void onDimension(std::string_view c, const DimensionDefinition& d) override {
    host_->onDimension(c, d);
  }
  void onFunction(std::string_view c, std::string_view n) override { host_->onFunction(c, n); }
  void onVariable(std::string_view c, std::string_view n, std::string_view v) override {
    host_->onVariable(c, n, v);
  }
  void onChartDefinitionEnd(std::string_view c, int64_t f, int64_t l, int64_t now) override {
    host_->onChartDefinitionEnd(c, f, l, now);
    std::string line = "REPLAY_CHART \"";
    line.append(c);
    line += "\" \"true\" 0 0\n";
    send(std::move(line));
  }
  void onSamples(std::string_view c, int64_t t) override { host_->onSamples(c, t); }
  void onReplicationEnd(std::string_view c, int64_t f, int64_t l) override {
    host_->onReplicationEnd(c, f, l);
  }
  void onUnknownKeyword(std::string_view keyword) override {
    server_.warnOnce("keyword " + std::string(keyword),
                     "ignoring unknown keyword '" + std::string(keyword) + "' from " + peer_ +
                         " (logged once per keyword)");
  }

 private:
  void beginSession(bool tls) {
    if (tls && !server_.tlsContext) {
      return drop("TLS connection from " + peer_ + " but no TLS is configured on [web] bind to",
                  false);
    }
    if (!tls && server_.options.tls == TlsMode::kForce) {
      return drop("plain-text connection from " + peer_ + " refused: TLS is forced", false);
    }
    if (!tls) return readHandshake();
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *server_.tlsContext);
    auto self = shared_from_this();
    tls_->async_handshake(asio::ssl::stream_base::server, [self](std::error_code ec) {
      if (ec) return self->drop("TLS handshake with " + self->peer_ + " failed: " + ec.message(),
                                false);
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
      const auto end = handshakeEnd(self->handshake_);
      if (!end) {
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
      case 503: return "Service Unavailable";
      default: return "Error";
    }
  }

  // The value of request header `name` (lower case), "" when absent.
  std::string header(std::string_view name) const {
    size_t pos = handshake_.find("\r\n");
    while (pos != std::string::npos && pos + 2 < handshake_.size()) {
      const size_t start = pos + 2;
      const size_t end = handshake_.find("\r\n", start);
      const std::string line = handshake_.substr(start, end - start);
      const auto colon = line.find(':');
      if (colon != std::string::npos && colon == name.size()) {
        bool same = true;
        for (size_t i = 0; i < colon; ++i) {
          if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) same = false;
        }
        if (same) {
          auto v = line.substr(colon + 1);
          while (!v.empty() && v.front() == ' ') v.erase(0, 1);
          return v;
        }
      }
      pos = end;
    }
    return "";
  }

  bool wantsWebSocket(const std::string& target) const {
    std::string upgrade = header("upgrade");
    for (auto& c : upgrade) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return target == "/live" && upgrade == "websocket" && !header("sec-websocket-key").empty();
  }

  // One HTTP request (GET or HEAD), one response, then close.
  void onHttpRequest() {
    const auto lineEnd = handshake_.find("\r\n");
    const std::string line = handshake_.substr(0, lineEnd);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 + 1);
    aclk::LocalHttpResponse resp;
    std::string method;
    if (sp1 == std::string::npos || sp2 == std::string::npos ||
        line.compare(sp2 + 1, 5, "HTTP/") != 0) {
      resp.code = 400;
      resp.body = "{\"error\":\"malformed request line\"}";
    } else {
      method = line.substr(0, sp1);
      const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      if (!server_.allowConnections.empty() && !server_.allowConnections.matches(peerIp_)) {
        resp.code = 403;
        resp.body = "{\"error\":\"not allowed by [web] allow connections from\"}";
      } else if (method != "GET" && method != "HEAD") {
        resp.code = 405;
        resp.body = "{\"error\":\"only GET and HEAD\"}";
      } else if (method == "GET" && wantsWebSocket(target) && server_.options.channelData) {
        return upgradeToWebSocket();
      } else if (!server_.options.http) {
        resp.code = 404;
        resp.body = "{\"error\":\"no HTTP API\"}";
      } else {
        resp = server_.options.http("GET", target);
      }
    }
    std::string out = "HTTP/1.1 " + std::to_string(resp.code) + " " + reason(resp.code) + "\r\n";
    out += "Content-Type: " + resp.contentType + "\r\n";
    out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
    out += "Cache-Control: no-cache, no-store, must-revalidate\r\n";
    out += "Connection: close\r\n\r\n";
    if (method != "HEAD") out += resp.body;
    closeAfterWrite_ = true;
    armTimer(std::chrono::seconds(10), "");
    send(std::move(out));
  }

  // ---- live channels (the WebSocket side) ----------------------------------------------
  void upgradeToWebSocket() {
    live_ = true;
    server_.counters.liveClients++;
    std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                      webSocketAccept(header("sec-websocket-key")) + "\r\n\r\n";
    std::string().swap(handshake_);
    send(std::move(out));
    armTimer(std::chrono::seconds(90), "no pong from a live client for 90 s");
    readWs();
  }

  void readWs() {
    auto self = shared_from_this();
    readSome([self](std::error_code ec, size_t n) {
      if (ec) return self->close();
      self->wsReader_.feed(std::string_view(self->readData(), n));
      std::string error;
      while (auto frame = self->wsReader_.next(&error)) {
        if (!self->onWsFrame(*frame)) return self->close();
      }
      if (!error.empty()) {
        self->server_.warnOnce("ws " + error, "live client " + self->peer_ + ": " + error);
        self->send(encodeWsFrame(WsOpcode::kClose, std::string("\x03\xea", 2)));
        self->closeAfterWrite_ = true;
        return;
      }
      self->readWs();
    });
  }

  void sendWs(const std::string& text) { send(encodeWsFrame(WsOpcode::kText, text)); }

  bool onWsFrame(const WsFrame& f) {
    switch (f.opcode) {
      case WsOpcode::kPing:
        send(encodeWsFrame(WsOpcode::kPong, f.payload));
        return true;
      case WsOpcode::kPong:
        armTimer(std::chrono::seconds(90), "no pong from a live client for 90 s");
        return true;
      case WsOpcode::kClose:
        send(encodeWsFrame(WsOpcode::kClose, ""));
        closeAfterWrite_ = true;
        return true;
      case WsOpcode::kText:
        onCommand(f.payload);
        return true;
      default:
        return false;
    }
  }

  // {"id":1,"subscribe":{"channel":"aclk/status"}} or "unsubscribe"; answered with
  // {"id":1,"result":{"data":…}} or {"id":1,"error":{"code":400,"message":"…"}}.
  void onCommand(const std::string& text) {
    const auto cmd = nlohmann::json::parse(text, nullptr, false);
    nlohmann::json reply;
    reply["id"] = cmd.is_object() && cmd.contains("id") ? cmd["id"] : nlohmann::json(nullptr);
    auto fail = [&](int code, const std::string& message) {
      reply["error"] = {{"code", code}, {"message", message}};
      sendWs(reply.dump());
    };
    if (!cmd.is_object()) return fail(400, "the command is not a JSON object");
    const bool sub = cmd.contains("subscribe");
    const bool unsub = cmd.contains("unsubscribe");
    if (sub == unsub) return fail(400, "expected exactly one of 'subscribe' or 'unsubscribe'");
    const auto& body = cmd[sub ? "subscribe" : "unsubscribe"];
    if (!body.is_object() || !body.contains("channel") || !body["channel"].is_string()) {
      return fail(400, "field 'channel' is missing or not a string");
    }
    const auto channel = body["channel"].get<std::string>();
    if (unsub) {
      subscriptions_.erase(channel);
      reply["result"] = nlohmann::json::object();
      return sendWs(reply.dump());
    }
    std::string error;
    const auto data = server_.options.channelData(channel, &error);
    if (!data) return fail(400, error);
    if (subscriptions_.size() >= 64 && !subscriptions_.count(channel)) {
      return fail(429, "at most 64 subscriptions per connection");
    }
    subscriptions_[channel] = std::hash<std::string>{}(*data);
    sendWs("{\"id\":" + reply["id"].dump() + ",\"result\":{\"data\":" + *data + "}}");
  }

  void onRequest(const std::string& rest) {
    if (handshake_.rfind("STREAM ", 0) != 0) return onHttpRequest();
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
    spdlog::info("STREAM [receive from [{}]:{}]: accepted '{}' ({}), hops {}, capabilities {}{}",
                 peerIp_, request_.hostname, request_.machineGuid, request_.version, request_.hops,
                 negotiated_, decoder_ ? ", LZ4" : "");
    // The prompt travels alone: nothing else is written before the child speaks (§3.3).
    send(successPrompt(negotiated_));
    armTimer(server_.options.idleTimeout, "no data for the idle timeout");
    std::string().swap(handshake_);
    request_.systemInfo.clear();  // now in the registry; the view needs only names and hops
    if (!rest.empty() && !consume(rest.data(), rest.size())) return;
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
      self->armTimer(self->server_.options.idleTimeout, "no data for the idle timeout");
      if (!self->consume(self->readData(), n)) return;
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
        drop("compressed stream from " + peer_ + " is corrupt: " + error, true);
        return false;
      }
      if (!parser_->feed(text, &error)) {
        drop("stream from " + peer_ + " dropped: " + error, true);
        return false;
      }
      return true;
    }
    if (!parser_->feed(std::string_view(data, n), &error)) {
      drop("stream from " + peer_ + " dropped: " + error, true);
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

  void drop(const std::string& why, bool counted) {
    if (counted) server_.counters.dropped++;
    server_.warnOnce("drop", why);
    close();
  }

  void armTimer(std::chrono::seconds after, std::string why) {
    timer_.expires_after(after);
    std::weak_ptr<Connection> weak = shared_from_this();
    timer_.async_wait([weak, why](std::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        if (why.empty()) return self->close();
        self->drop("stream from " + self->peer_ + " dropped: " + why, true);
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
  bool live_ = false;
  WsFrameReader wsReader_;
  std::map<std::string, size_t> subscriptions_;  // channel -> hash of the JSON last pushed
  bool closeAfterWrite_ = false;
  bool closed_ = false;
  uint64_t wireBytes_ = 0;
  std::time_t since_ = 0;
  SteadyClock::time_point started_;
};

void StreamServer::Impl::liveTick() {
  if (!options.channelData) return;
  std::vector<std::shared_ptr<Connection>> clients;
  {
    std::lock_guard lock(mutex);
    for (auto* c : connections) {
      if (!c->live()) continue;
      if (auto alive = c->weak_from_this().lock()) clients.push_back(std::move(alive));
    }
  }
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
