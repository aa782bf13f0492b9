// One HTTP request on the stream port, answered once (Boost.Beast): the head is read on from the
// bytes the bridge already read, checked against [web] allow connections from, routed through
// the table, and answered with `Connection: close`; a WebSocket route hands the stream on to a
// live session instead.

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>

#include "web/web_shared.h"

namespace aclkd::web {
namespace {

namespace http = beast::http;

template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(std::shared_ptr<WebServer::Shared> shared, Stream stream, const std::string& received)
      : shared_(std::move(shared)), stream_(std::move(stream)),
        strand_(asio::make_strand(stream_.get_executor())), timer_(strand_) {
    error_code ec;
    const auto remote = beast::get_lowest_layer(stream_).remote_endpoint(ec);
    peerIp_ = ec ? "unknown" : remote.address().to_string();
    peer_ = ec ? "unknown" : peerIp_ + ":" + std::to_string(remote.port());
    buffer_.commit(asio::buffer_copy(buffer_.prepare(received.size()), asio::buffer(received)));
    parser_.header_limit(static_cast<std::uint32_t>(shared_->options.headerLimit));
  }

  void start() {
    auto self = this->shared_from_this();
    asio::dispatch(strand_, [self] {
      self->closeAfter(self->shared_->options.headTimeout, "no complete request within " +
                       std::to_string(self->shared_->options.headTimeout.count()) + " s");
      http::async_read_header(self->stream_, self->buffer_, self->parser_,
                              asio::bind_executor(self->strand_, [self](error_code ec, size_t) {
                                self->onHead(ec);
                              }));
    });
  }

 private:
  void onHead(error_code ec) {
    if (ec == asio::error::operation_aborted) return;  // the timer closed the socket
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
      return close();  // the peer gave up before a whole head
    }
    if (ec) {
      std::string error;
      const int status = statusOfParseError(ec, shared_->options.headerLimit, &error);
      shared_->counters.badRequests++;
      shared_->warnLimited(peerIp_, "http-" + std::to_string(status),
                           "HTTP request from " + peer_ + " answered " + std::to_string(status) +
                               ": " + error);
      return reply(status, jsonError(error), false);
    }
    const HttpRequest req = toHttpRequest(parser_.get());
    const bool head = req.method == "HEAD";
    const auto match = shared_->options.routes.match(req);
    if (match.route && match.route->allowed) {
      if (!match.route->allowed(peerIp_)) {
        return reply(403, jsonError("not allowed by [web] allow streaming from"), head);
      }
    } else if (shared_->options.allowed && !shared_->options.allowed(peerIp_)) {
      return reply(403, jsonError("not allowed by [web] allow connections from"), head);
    }
    if (!match.route) return reply(match.status, jsonError(match.error), head);
    if (match.route->live) {
      if (!req.wantsWebSocket()) {
        return reply(426, jsonError("this path is a WebSocket: send Upgrade: websocket"), head);
      }
      // RFC 6455 §4.1: the client waits for the 101 before sending frames, so nothing read past
      // the head belongs to the WebSocket.
      timer_.cancel();
      return startLiveSession(shared_, std::move(stream_), parser_.release(), match.route->live,
                              peer_, peerIp_);
    }
    const HttpResponse r = match.route->http(req);
    reply(r.code, r.body, head, r.contentType);
  }

  void reply(int code, std::string body, bool head,
             const std::string& contentType = "application/json") {
    shared_->counters.requests++;
    response_.version(11);
    response_.result(static_cast<unsigned>(code));
    response_.set(http::field::content_type, contentType);
    response_.set(http::field::cache_control, "no-cache, no-store, must-revalidate");
    response_.keep_alive(false);
    response_.body() = std::move(body);
    response_.prepare_payload();
    if (head) response_.body().clear();  // Content-Length stays the GET answer's
    closeAfter(std::chrono::seconds(10), "");
    auto self = this->shared_from_this();
    http::async_write(stream_, response_,
                      asio::bind_executor(strand_, [self](error_code, size_t) { self->finish(); }));
  }

  // After the response: no more sending, and whatever the peer still sends is read and dropped
  // until it closes (or the timer does), so an unread request tail does not turn the close into
  // a reset that could cut the response short at the peer.
  void finish() {
    error_code ignored;
    beast::get_lowest_layer(stream_).shutdown(asio::socket_base::shutdown_send, ignored);
    drain();
  }

  void drain() {
    auto self = this->shared_from_this();
    beast::get_lowest_layer(stream_).async_read_some(
        asio::buffer(discard_), asio::bind_executor(strand_, [self](error_code ec, size_t) {
          if (ec) return self->close();
          self->drain();
        }));
  }

  // `why` empty: a quiet close when the time is up; else a warning about the peer.
  void closeAfter(std::chrono::seconds after, std::string why) {
    timer_.expires_after(after);
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    timer_.async_wait([weak, why](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        if (!why.empty()) {
          self->shared_->counters.timeouts++;
          self->shared_->warnLimited(self->peerIp_, "http-timeout",
                                     "connection from " + self->peer_ + " closed: " + why);
        }
        self->close();
      }
    });
  }

  void close() {
    timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(stream_).close(ignored);
  }

  std::shared_ptr<WebServer::Shared> shared_;
  Stream stream_;
  // A strand over the socket's executor, type-erased: Beast's saved handlers need a standard
  // executor (a bare strand<any_io_executor> trips its legacy work-tracking path in Boost 1.81).
  asio::any_io_executor strand_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> response_;
  std::array<char, 512> discard_{};
  std::string peer_;
  std::string peerIp_;
};

}  // namespace

template <class Stream>
void startHttpSession(std::shared_ptr<WebServer::Shared> shared, Stream stream,
                      std::string received) {
  std::make_shared<HttpSession<Stream>>(std::move(shared), std::move(stream), received)->start();
}

template void startHttpSession(std::shared_ptr<WebServer::Shared>, PortConnection::Socket,
                               std::string);
template void startHttpSession(std::shared_ptr<WebServer::Shared>, PortConnection::TlsStream,
                               std::string);

}  // namespace aclkd::web
