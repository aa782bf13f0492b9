#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "stream_bridge/downstream_identity.h"
#include "stream_bridge/function_calls.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_conf.h"

namespace aclkd::web {
struct PortConnection;  // web/port_connection.h
}

namespace aclkd::stream_bridge {

enum class TlsMode { kNone, kOptional, kForce };

struct StreamInfoReply {
  int code = 200;
  std::string body;  // JSON
};

struct BridgeOptions {
  std::string bindAddress = "127.0.0.1";
  int port = 19999;
  TlsMode tls = TlsMode::kNone;
  std::string tlsCertificate;  // PEM, for kOptional/kForce
  std::string tlsKey;
  std::string allowStreamingFrom = "*";  // simple pattern on the peer IP
  bool compression = true;               // stream.conf `enable compression` default
  std::string ownMachineGuid;            // a child with this GUID is "my localhost"
  std::string ownHostname;               // the gateway's hop in stream paths
  // Polled once a second on the loop thread: each child that negotiated NODEID gets its node id
  // once the cloud gave one (and again when it changes); PATHS children get the path back.
  std::function<CloudIdentity()> cloudIdentity;
  size_t maxLineBytes = 15360;
  std::chrono::seconds handshakeTimeout{10};
  std::chrono::seconds idleTimeout{600};
  // Beyond it new connections are closed at once; 10,000 children fit (the fd limit must too:
  // the systemd unit sets LimitNOFILE=65536, scripts/run raises the shell's soft limit).
  size_t maxConnections = 16384;
  // Event loops (threads) serving streams; 0 = one per core. See StreamServer.
  size_t ioThreads = 0;
  // A plain stream wakes its loop only once this many bytes wait in its socket (SO_RCVLOWAT);
  // what stays below is read by the batch sweep, at least once a second. 0 or 1: every chunk
  // wakes the loop. See stream_connection_streaming.cc.
  size_t readBatchBytes = 16384;
  // SO_RCVBUF of every socket of the port (0: the kernel's autotuning). See the option's text,
  // [stream] receive buffer bytes (daemon/options.h).
  size_t receiveBufferBytes = 0;
  std::chrono::seconds ephemeralCleanupAfter{86400};
  // Everything on the port that is not a Netdata `STREAM` (HTTP, /live): the connection is
  // handed over here, with the bytes already read, and forgotten. Unset: such connections close.
  std::function<void(web::PortConnection)> handOff;
};

// `aclkctl streams`: one accepted stream.
struct StreamView {
  std::string peer;
  std::string machineGuid;
  std::string hostname;
  int hops = 0;
  std::string compression = "none";  // the negotiated algorithm: zstd, lz4, brotli, gzip, none
  bool tls = false;
  uint64_t capabilities = 0;
  std::time_t since = 0;
  uint64_t wireBytes = 0;
  uint64_t textBytes = 0;
  uint64_t lines = 0;
  uint64_t samples = 0;
  uint64_t malformedLines = 0;  // known keyword, unusable arguments: ignored
  double samplesPerSecond = 0;
};

// Degraded modes and refusals, shown by `aclk-state json` under "counters".
struct BridgeCounters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};          // access denied, bad handshake, duplicates
  std::atomic<uint64_t> dropped{0};          // streams closed on bad data or timeouts
  std::atomic<uint64_t> overLimit{0};        // connections beyond maxConnections
  std::atomic<uint64_t> acceptFailures{0};   // accept() errors: out of descriptors, buffers
  // Handshakes found unread in the socket when their timeout fired (loop 0 too busy to read
  // them): given one more period instead of a drop.
  std::atomic<uint64_t> handshakesLate{0};
  // Requests for a host whose previous stream was still open (its close not yet handled),
  // accepted after waiting for it instead of refused.
  std::atomic<uint64_t> attachWaits{0};
  // Answers of streams() that lacked a loop's streams: the loop did not hand over its views
  // within 2 s (busy with a definition burst).
  std::atomic<uint64_t> viewsLate{0};
  // Monotonic totals over every stream since start, disconnected ones included (/metrics).
  std::atomic<uint64_t> wireBytes{0};
  std::atomic<uint64_t> samples{0};
  std::atomic<uint64_t> malformedLines{0};
  // Reads that returned stream bytes, and those of them the batch sweep made (see
  // BridgeOptions::readBatchBytes).
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> batchReads{0};
  // Function results that matched no call in flight (late after a timeout or a cancel).
  std::atomic<uint64_t> strayFunctionResults{0};
};

// The listener for Netdata streams. A few asio event loops (`ioThreads`, one per core by
// default) serve every connection: thousands of mostly idle children cost a socket each, not a
// thread. Loop 0 accepts and reads each connection's first request; an accepted plain-text
// stream is then handed to the loop with the fewest connections (TLS streams, HTTP and live
// clients stay on loop 0). asio rather
// than libwebsockets because the port must accept the non-HTTP `STREAM` method and sniff TLS from
// the first byte (docs/protocol/streaming.md §6), which lws's HTTP server would refuse. Boost.Asio
// rather than the standalone asio so that web/ (Boost.Beast) can take over its sockets.
//
// The first bytes decide what a connection is: `STREAM …` is a Netdata child and stays here;
// anything else is handed over to web/ (`handOff`: HTTP and the live WebSocket on Boost.Beast),
// socket and bytes read, and forgotten. This loop keeps only Netdata streaming.
//
// Per connection: handshake (≤ 16 KiB within handshakeTimeout) → access check (stream.conf + `allow
// streaming from`) → prompt (the only write until the child speaks) → LZ4 frames or plain text →
// StreamParser → NodeRegistry. Replication is answered with `REPLAY_CHART "<id>" "true" 0 0` after
// each CHART_DEFINITION_END (strategy B of docs/protocol/streaming.md §9.2): the child stays in its
// normal state, sends its samples (the liveness signal) and never stalls.
class StreamServer {
 public:
  // `conf` is shared, not copied: the daemon keeps the same object for its query settings, so
  // one stream.conf is current everywhere after a reload (setConf).
  StreamServer(BridgeOptions options, std::shared_ptr<const StreamConf> conf,
               std::shared_ptr<NodeRegistry> registry);
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // Binds and starts the loop threads; false with *error (address in use, bad certificate, …).
  bool start(std::string* error);
  void stop();

  // Takes effect for the next handshake.
  void setConf(std::shared_ptr<const StreamConf> conf);

  // Every stream's view, read on its loop's thread. A loop that does not answer within 2 s is
  // left out of this answer (counted in viewsLate, warned), so a caller is never stuck behind a
  // busy loop; streamingCount() stays exact.
  std::vector<StreamView> streams() const;
  // Text about every stream, written on the stream's own loop thread: /metrics' per-stream
  // series. At 10,000 streams they are 2 MB of text; built on the front loop from copied views
  // they cost it ~12 ms of a scrape (20,000 strings copied twice, then escaped), while no
  // handshake or request was served. Written on the loops, the stream loops share the work and
  // no string is copied per stream: `write` gets a view valid only for the call (one per loop,
  // its strings reused) and appends to its loop's `parts` (`partCount` texts, one per family).
  // The answer holds each loop's parts, in loop order. The deadlines are those of streams(), and
  // a late loop gives the parts of its last answer. One kind of caller only (those parts are kept
  // per loop for it): the metrics renderer.
  using StreamTextWriter = std::function<void(const StreamView&, std::vector<std::string>& parts)>;
  struct StreamText {
    std::vector<std::string> parts;
    size_t streams = 0;  // how many streams wrote to it
    double samplesPerSecond = 0;  // theirs, summed (StreamView::samplesPerSecond)
  };
  using StreamTextParts = std::vector<std::shared_ptr<const StreamText>>;
  StreamTextParts streamText(size_t partCount, const StreamTextWriter& write) const;
  size_t streamingCount() const;  // connections past their handshake, on every loop; any thread
  // `GET /api/v3/stream_info?machine_guid=…`, answered as a v2 parent does (stream_info.h); any
  // thread. A child asks before it streams, so whoever `mayStream` may ask.
  StreamInfoReply streamInfo(const std::string& target) const;
  bool mayStream(const std::string& peerIp) const;
  const BridgeCounters& counters() const;
  int port() const;  // the bound port (useful with port 0)

  // A function call down the stream that holds `machineGuid`'s host (FunctionCalls says how).
  // `done` runs exactly once: on that stream's loop thread, or at once on the caller's when no
  // live stream holds the node; it must only hand the result over. Returns an id for
  // cancelFunction. Any thread.
  uint64_t callFunction(const std::string& machineGuid, FunctionCallRequest request,
                        FunctionDone done);
  // The caller gave up: FUNCTION_CANCEL goes down the stream and the call completes kCancelled
  // (unless it completed already). Any thread.
  void cancelFunction(uint64_t id);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:19999^SSL=force" → address, port, TLS mode; false with *error on a bad value.
bool parseBindTo(const std::string& text, std::string* address, int* port, TlsMode* tls,
                 std::string* error);

}  // namespace aclkd::stream_bridge
