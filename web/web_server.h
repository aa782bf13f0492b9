#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "web/port_connection.h"
#include "web/router.h"

namespace aclkd::web {

struct WebOptions {
  Router routes;
  // Peers allowed to use the web side ([web] allow connections from); others get 403. Unset:
  // everyone.
  std::function<bool(const std::string& peerIp)> allowed;
  size_t headerLimit = 16 * 1024;                      // request heads past it get 431
  std::chrono::seconds headTimeout{10};                // for the whole head
  size_t maxLiveMessage = 4096;                        // client messages past it close with 1009
  // A client that sends commands and does not read the answers (a subscribe to aclk/history is
  // ~250 KB) is dropped once this much waits for it.
  size_t maxLiveUnsent = 8 * 1024 * 1024;
  std::chrono::seconds livePing{25};                   // a ping to every live client this often
  std::chrono::seconds livePongTimeout{90};            // closed without a pong for this long
};

// Monotonic counters (and one gauge) for /metrics; each degraded mode also logs a warning,
// rate-limited per peer and reason.
struct WebCounters {
  std::atomic<uint64_t> requests{0};        // HTTP requests answered (errors included)
  std::atomic<uint64_t> badRequests{0};     // answered 400 or 431
  std::atomic<uint64_t> timeouts{0};        // closed without a whole request head in time
  std::atomic<uint64_t> liveProtocol{0};    // live clients closed on a WebSocket error
  std::atomic<uint64_t> liveUnread{0};      // live clients dropped: maxLiveUnsent unread
  std::atomic<uint64_t> liveNoPong{0};      // live clients dropped for want of a pong
  std::atomic<uint64_t> liveClients{0};     // gauge: WebSocket clients connected now
};

// HTTP and WebSocket on the stream port, on Boost.Beast. The bridge reads a connection's first
// bytes; when they are not `STREAM` it hands the socket here (`serve`) and forgets it. Each
// request is answered once and the connection closed (no keep-alive, no bodies: the surface is
// read-only), or upgraded to a live channel WebSocket when its route says so.
//
// Sessions run on the executor their socket belongs to (the bridge's loop, one thread or
// several), each behind its own strand, so the web side needs no thread of its own. Handlers
// (the routes, the channel renderers) run on those threads and must be thread-safe.
class WebServer {
 public:
  explicit WebServer(WebOptions options);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  void serve(PortConnection connection);

  const WebCounters& counters() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;  // sessions hold it too: they may outlive this object
};

}  // namespace aclkd::web
