#pragma once

#include <atomic>
#include <cstddef>
#include <string>

#include "testcloud/api_router.h"

struct lws_context;

namespace aclkd::testcloud {

struct ServerOptions {
  std::string bindAddress = "127.0.0.1";
  int port = 0;
  // Both set: HTTPS only. Both empty: plain HTTP, for debugging with a sniffer.
  std::string certFile;
  std::string keyFile;
  size_t maxBodyBytes = 1u << 20;
};

// The HTTP(S) front end: one lws context, one vhost, every request handed to an ApiRouter. lws owns
// the sockets and TLS; this class turns its callbacks into Request -> Reply calls. lws is not
// thread-safe: everything but stop() must run on the thread that calls run().
class HttpsServer {
 public:
  HttpsServer(ServerOptions options, const ApiRouter& router);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Creates the context and binds the listening socket; false with *error when it cannot.
  bool start(std::string* error);

  // scheme://bind:port, what clients should use.
  std::string url() const;

  // Serves until stop().
  void run();

  // Safe from any thread (and from a signal-waiting thread): lws_cancel_service is the one lws
  // call documented as thread-safe.
  void stop();

 private:
  friend struct ServerCallbacks;

  const ServerOptions options_;
  const ApiRouter& router_;
  lws_context* context_ = nullptr;
  std::atomic<bool> stopping_{false};
};

}  // namespace aclkd::testcloud
