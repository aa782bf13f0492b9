#pragma once

// One connection on the stream port. Private to stream_bridge/; the loops see it only through
// StreamServer::Impl::Connection (stream_connection.h). Two files, one per phase of its life:
// - stream_connection.cc: the first byte sniffed (TLS or not), the first request read, then
//   either handed to web/ (anything that is not `STREAM`) or accepted as a Netdata stream: the
//   handshake, capability negotiation, the hand-off to a stream loop, timers, refusal and close;
// - stream_connection_streaming.cc: once streaming: batched reads (the low-water mark and the
//   batch sweep), decompression and parsing, the parser's events escaped and forwarded to the
//   registry, function calls, and what a v2 parent sends down (NODE_ID, the stream path).

#include <optional>

#include "stream_bridge/compression/decoder.h"
#include "stream_bridge/downstream_identity.h"
#include "stream_bridge/escaping_events.h"
#include "stream_bridge/function_calls.h"
#include "stream_bridge/handshake.h"
#include "stream_bridge/stream_connection.h"
#include "stream_bridge/stream_parser.h"

namespace aclkd::stream_bridge {

class StreamConnection final : public StreamServer::Impl::Connection, public EscapingEvents {
 public:
  using Impl = StreamServer::Impl;
  StreamConnection(Impl& server, tcp::socket socket);
  ~StreamConnection() override;

  void start();

  // ---- what the loops see (Impl::Connection)
  void fillView(StreamView& v) const override;
  bool streaming() const override { return parser_ != nullptr; }
  void idleTimeout() override;
  uint32_t idleSeconds(uint32_t tick) const override {
    return streaming() && lastTick_ != kNotStreaming ? tick - lastTick_ : 0;
  }
  void batchRead(uint32_t batchTick) override;
  void syncIdentity(const CloudIdentity& id) override;
  void startCall(uint64_t id, FunctionCallRequest request, FunctionDone done) override;
  void cancelCall(uint64_t id) override;
  bool expireCalls(SteadyClock::time_point now) override;

  // ---- StreamEvents: escaped and forwarded to the registry (EscapingEvents), plus the
  // replication answer, the per-sample path, function results and the child's stream path.
  void onChartDefinitionEnd(std::string_view c, int64_t f, int64_t l, int64_t now) override;
  void onSamples(std::string_view c, int64_t t) override;
  void onStreamPath(std::string_view json) override;
  void onFunctionResultBegin(std::string_view txn, int code, std::string_view type,
                             int64_t expires) override;
  void onFunctionResultBody(std::string_view bytes) override;
  void onFunctionResultEnd() override;
  void onFunctionProgress(std::string_view txn, int64_t, int64_t) override;
  void onUnknownKeyword(std::string_view keyword) override;

 private:
  std::shared_ptr<StreamConnection> selfPtr() {
    return std::static_pointer_cast<StreamConnection>(shared_from_this());
  }

  // ---- stream_connection.cc: until the stream is accepted, and the end
  void beginSession(bool tls);
  void readHandshake(bool dataWaiting = false);
  void handOff();
  void onRequest(const std::string& rest);
  void attachHost(const std::string& rest);
  void hostReleased() override;
  void refuse(const std::string& reply, const std::string& log);
  void drop(const std::string& reason, const std::string& why, bool counted);
  void armTimer(std::chrono::seconds after, void (*fired)(StreamConnection&));
  void disarmTimer();
  void handshakeTimedOut();
  void close();

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

  // ---- stream_connection_streaming.cc: once accepted
  void startStreaming(const std::string& rest, std::string prompt);
  void readStream();
  bool readAvailable(bool bySweep);
  void fitLowWater();
  void leaveBatch();
  void streamEnded(error_code ec);
  bool onStreamData(const char* data, size_t n, bool fromWire);
  void childSpoke();
  bool consume(const char* data, size_t n);
  void queueOut(std::string_view data);
  void flushOut();
  void send(std::string_view data);  // queueOut + flushOut
  void syncTotals();

  Impl& server_;
  Impl::Loop* loop_;  // the loop serving the connection now
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;  // owns the socket once TLS
  asio::steady_timer timer_;
  uint64_t timerArm_ = 0;           // see armTimer
  bool handshakeExtended_ = false;  // see handshakeTimedOut
  static constexpr auto kAttachWait = std::chrono::seconds(5);  // see attachHost
  int attachTries_ = 0;
  bool waitingForHost_ = false;  // in Impl::hostWaiters
  bool attachDone_ = false;      // attached or refused: no check or notice attaches again
  std::unique_ptr<asio::steady_timer> attachTimer_;
  std::string attachRest_;  // what followed the request while the attach waits
  SteadyClock::time_point attachWaitSince_{};
  std::vector<char> tlsBuffer_;
  std::string handshake_;
  std::string peer_;
  std::string peerIp_;
  StreamRequest request_;
  uint64_t negotiated_ = 0;
  std::unique_ptr<StreamDecoder> decoder_;
  std::unique_ptr<StreamParser> parser_;
  std::unique_ptr<NodeRegistry::Stream> host_;
  std::string pendingOut_;   // lines queued, not yet being written (see flushOut)
  std::string inFlightOut_;  // the write in flight; empty: none
  bool closeAfterWrite_ = false;
  bool closed_ = false;
  bool spoke_ = false;        // the child sent something after the prompt
  std::optional<DownstreamIdentity> identity_;  // what goes down about the cloud identity
  std::optional<FunctionCalls> calls_;          // with FUNCTIONS: the calls in flight
  uint64_t wireBytes_ = 0;
  static constexpr uint32_t kNotStreaming = ~0u;
  uint32_t lastTick_ = kNotStreaming;  // loop_->tick at the last data (the idle sweep)
  // Batched reads (stream_connection_streaming.cc): the bucket of loop_->batch this stream is
  // in (kNoBucket: not batched), the low-water mark set on the socket, and loop_->batchTick at
  // the last read.
  static constexpr size_t kNoBucket = ~size_t{0};
  size_t bucket_ = kNoBucket;
  size_t lowWater_ = 1;
  uint32_t lastReadBatchTick_ = 0;
  ParserStats reported_;  // parser totals already added to the server's monotonic counters
  std::time_t since_ = 0;
  SteadyClock::time_point started_;
};

}  // namespace aclkd::stream_bridge
