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

#include "aclk/http_command.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_conf.h"

namespace aclkd::stream_bridge {

enum class TlsMode { kNone, kOptional, kForce };

// What a v2 parent passes down to its children (NODE_ID, the gateway's hop in STREAM_PATH).
struct CloudIdentity {
  std::string claimId;   // "" when unclaimed
  std::string cloudUrl;
  std::map<std::string, std::string> nodeIds;  // machine GUID -> the cloud's node id
};

struct BridgeOptions {
  std::string bindAddress = "127.0.0.1";
  int port = 19999;
  TlsMode tls = TlsMode::kNone;
  std::string tlsCertificate;  // PEM, for kOptional/kForce
  std::string tlsKey;
  std::string allowStreamingFrom = "*";  // simple pattern on the peer IP
  bool compression = true;               // offer LZ4 to children
  std::string ownMachineGuid;            // a child with this GUID is "my localhost"
  std::string ownHostname;               // the gateway's hop in stream paths
  // Polled once a second on the loop thread: each child that negotiated NODEID gets its node id
  // once the cloud gave one (and again when it changes); PATHS children get the path back.
  std::function<CloudIdentity()> cloudIdentity;
  size_t maxLineBytes = 15360;
  std::chrono::seconds handshakeTimeout{10};
  std::chrono::seconds idleTimeout{600};
  size_t maxConnections = 4096;
  std::chrono::seconds ephemeralCleanupAfter{86400};
  // Plain HTTP on the same port (the operating surface): GET/HEAD requests from peers matching
  // `allowConnectionsFrom` go to `http`; others get 403. Without `http`, HTTP gets 404.
  std::string allowConnectionsFrom = "localhost 127.0.0.1 ::1 ::ffff:127.0.0.1";
  std::function<aclk::LocalHttpResponse(const std::string& method, const std::string& target)>
      http;
  // Live channels: `GET /live` upgraded to a WebSocket. `channelData` renders a channel's current
  // JSON, or returns nullopt with `error` set for a bad or unknown channel name. It runs on the
  // loop thread, once per second per distinct subscribed channel; a push goes out when the JSON
  // changed.
  std::function<std::optional<std::string>(const std::string& channel, std::string* error)>
      channelData;
};

// `aclkctl streams`: one accepted stream.
struct StreamView {
  std::string peer;
  std::string machineGuid;
  std::string hostname;
  int hops = 0;
  bool compressed = false;
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
  std::atomic<uint64_t> liveClients{0};      // WebSocket clients connected now
  // Monotonic totals over every stream since start, disconnected ones included (/metrics).
  std::atomic<uint64_t> wireBytes{0};
  std::atomic<uint64_t> samples{0};
  std::atomic<uint64_t> malformedLines{0};
};

// The listener for Netdata streams. One asio event loop on one thread serves every connection:
// thousands of mostly idle children cost a socket and a buffer each, not a thread. asio rather
// than libwebsockets because the port must accept the non-HTTP `STREAM` method and sniff TLS from
// the first byte (stream-protocol.md §6), which lws's HTTP server would refuse; the operating
// surface will answer plain HTTP on this same port by dispatching on the first line.
//
// The first request decides what a connection is, parsed once: `STREAM …` is a Netdata child and
// stays here; anything else is HTTP for web/ (its head parsed by Boost.Beast: 400 when
// malformed, 431 past 16 KiB), answered once and closed (no keep-alive, no bodies: the API is
// read-only), or upgraded to a live WebSocket whose frames (RFC 6455) and channel protocol are
// web/'s. This loop only moves the bytes: one event loop for every socket of the port.
//
// Per connection: handshake (≤ 16 KiB within handshakeTimeout) → access check (stream.conf +
// `allow streaming from`) → prompt (the only write until the child speaks) → LZ4 frames or plain
// text → StreamParser → NodeRegistry. Replication is answered with `REPLAY_CHART "<id>" "true" 0 0`
// after each CHART_DEFINITION_END (strategy B of stream-protocol.md §9.2): the child stays in its
// normal state, sends its samples (the liveness signal) and never stalls.
class StreamServer {
 public:
  StreamServer(BridgeOptions options, StreamConf conf, std::shared_ptr<NodeRegistry> registry);
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // Binds and starts the loop thread. An error text (address in use, bad certificate, …) or "".
  std::string start();
  void stop();

  // Takes effect for the next handshake.
  void setConf(StreamConf conf);

  std::vector<StreamView> streams() const;
  const BridgeCounters& counters() const;
  int port() const;  // the bound port (useful with port 0)

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:19999^SSL=force" → address, port, TLS mode; an error text on a bad value.
std::string parseBindTo(const std::string& text, std::string* address, int* port, TlsMode* tls);

}  // namespace aclkd::stream_bridge
