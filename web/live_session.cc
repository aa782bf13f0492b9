// One live channel client: a WebSocket on Boost.Beast carrying the channel protocol
// (live_channels.h). RFC 6455 is Beast's: fragmented messages are reassembled, pings answered,
// protocol errors (stray continuations, reserved opcodes or bits, control frames over 125 bytes
// or fragmented, unmasked frames) close with 1002, messages over the limit with 1009, a text
// message that is not UTF-8 with 1007, and a close from the client is answered with its code.
// Nothing of the framing is written here.

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>

#include "web/web_shared.h"

namespace aclkd::web {
namespace {

namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;

template <class Stream>
class LiveSession : public std::enable_shared_from_this<LiveSession<Stream>> {
 public:
  LiveSession(std::shared_ptr<WebServer::Shared> shared, Stream stream, ChannelData channels,
              std::string peer, std::string peerIp)
      : shared_(std::move(shared)), ws_(std::move(stream)),
        strand_(asio::make_strand(ws_.get_executor())), tick_(strand_), channels_(channels),
        live_(std::move(channels)), peer_(std::move(peer)), peerIp_(std::move(peerIp)) {
    shared_->counters.liveClients++;
  }
  ~LiveSession() { shared_->counters.liveClients--; }

  void start(BeastRequest request) {
    request_ = std::move(request);
    ws_.read_message_max(shared_->options.maxLiveMessage);
    ws_.auto_fragment(false);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& r) { r.set(beast::http::field::server, "aclkd"); }));
    // Beast reports control frames here, on the read's strand: a pong keeps the client alive.
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) lastPong_ = Clock::now();
    });
    auto self = this->shared_from_this();
    asio::dispatch(strand_, [self] {
      self->ws_.async_accept(self->request_, asio::bind_executor(self->strand_, [self](
                                                 error_code ec) { self->onAccept(ec); }));
    });
  }

 private:
  struct Out {
    enum Kind { kText, kPing, kClose } kind;
    std::string text;
    websocket::close_code code = websocket::close_code::normal;
  };

  void onAccept(error_code ec) {
    if (ec) {
      shared_->counters.liveProtocol++;
      shared_->warnLimited(peerIp_, "live-upgrade",
                           "WebSocket upgrade from " + peer_ + " failed: " + ec.message());
      return;
    }
    BeastRequest().swap(request_);
    ws_.text(true);
    lastPong_ = Clock::now();
    lastPing_ = lastPong_;
    scheduleTick();
    read();
  }

  void read() {
    auto self = this->shared_from_this();
    ws_.async_read(in_, asio::bind_executor(strand_, [self](error_code ec, size_t) {
                     self->onRead(ec);
                   }));
  }

  void onRead(error_code ec) {
    if (ec) {
      // A close handshake ends here too (websocket::error::closed): Beast answered it.
      if (ec != websocket::error::closed && ec != asio::error::operation_aborted &&
          ec != asio::error::eof && ec != asio::error::connection_reset) {
        shared_->counters.liveProtocol++;
        shared_->warnLimited(peerIp_, "live-protocol",
                             "live client " + peer_ + " closed: " + ec.message());
      }
      return stop();
    }
    if (!ws_.got_text()) {
      // The channel protocol is JSON text: binary is data of an unsupported kind (1003).
      send({Out::kClose, {}, websocket::close_code::unknown_data});
      return;
    }
    std::string command = beast::buffers_to_string(in_.data());
    in_.consume(in_.size());
    in_.shrink_to_fit();  // an idle client holds no read buffer of its own
    send({Out::kText, live_.onCommand(command)});
    read();
  }

  // Once a second: push the subscribed channels whose JSON changed; a ping now and then; the
  // client is dropped when no pong came for the pong timeout.
  void scheduleTick() {
    tick_.expires_after(std::chrono::seconds(1));
    auto self = this->shared_from_this();
    tick_.async_wait([self](error_code ec) {
      if (ec || self->stopped_) return;
      self->onTick();
    });
  }

  void onTick() {
    const auto now = Clock::now();
    if (now - lastPong_ > shared_->options.livePongTimeout) {
      shared_->counters.liveNoPong++;
      shared_->warnLimited(peerIp_, "live-no-pong",
                           "live client " + peer_ + " dropped: no pong for " +
                               std::to_string(shared_->options.livePongTimeout.count()) + " s");
      error_code ignored;
      beast::get_lowest_layer(ws_).close(ignored);
      return stop();
    }
    std::map<std::string, std::string> current;
    for (const auto& [channel, hash] : live_.subscriptions()) {
      if (auto json = shared_->channels.render(channels_, channel)) current[channel] = *json;
    }
    for (auto& push : live_.pushChanged(current)) send({Out::kText, std::move(push)});
    if (now - lastPing_ >= shared_->options.livePing) {
      lastPing_ = now;
      send({Out::kPing, {}});
    }
    scheduleTick();
  }

  // Beast allows one write at a time (pings and closes are writes too): a queue.
  void send(Out out) {
    if (stopped_ || closing_) return;
    if (out.kind == Out::kClose) closing_ = true;
    unsent_ += out.text.size();
    if (unsent_ > shared_->options.maxLiveUnsent) {
      shared_->counters.liveUnread++;
      shared_->warnLimited(peerIp_, "live-unread",
                           "live client " + peer_ + " dropped: " + std::to_string(unsent_) +
                               " bytes of answers unread");
      error_code ignored;
      beast::get_lowest_layer(ws_).close(ignored);
      return stop();
    }
    outbox_.push_back(std::move(out));
    if (outbox_.size() == 1) writeNext();
  }

  void writeNext() {
    auto self = this->shared_from_this();
    auto done = asio::bind_executor(strand_, [self](error_code ec) { self->onWritten(ec); });
    auto& out = outbox_.front();
    switch (out.kind) {
      case Out::kText:
        ws_.async_write(asio::buffer(out.text), asio::bind_executor(strand_, [self](
                                                    error_code ec, size_t) { self->onWritten(ec); }));
        break;
      case Out::kPing:
        ws_.async_ping({}, std::move(done));
        break;
      case Out::kClose:
        ws_.async_close(out.code, std::move(done));
        break;
    }
  }

  void onWritten(error_code ec) {
    if (ec) return stop();
    unsent_ -= outbox_.front().text.size();
    outbox_.pop_front();
    if (!outbox_.empty()) writeNext();
  }

  void stop() {
    stopped_ = true;
    tick_.cancel();
  }

  std::shared_ptr<WebServer::Shared> shared_;
  websocket::stream<Stream> ws_;
  // A strand over the socket's executor, type-erased: Beast's saved handlers need a standard
  // executor (a bare strand<any_io_executor> trips its legacy work-tracking path in Boost 1.81).
  asio::any_io_executor strand_;
  asio::steady_timer tick_;
  ChannelData channels_;
  LiveChannels live_;
  BeastRequest request_;
  beast::flat_buffer in_;
  std::deque<Out> outbox_;
  size_t unsent_ = 0;  // bytes of text in outbox_
  Clock::time_point lastPong_;
  Clock::time_point lastPing_;
  bool stopped_ = false;
  bool closing_ = false;
  std::string peer_;
  std::string peerIp_;
};

}  // namespace

template <class Stream>
void startLiveSession(std::shared_ptr<WebServer::Shared> shared, Stream stream,
                      BeastRequest request, ChannelData channels, std::string peer,
                      std::string peerIp) {
  std::make_shared<LiveSession<Stream>>(std::move(shared), std::move(stream), std::move(channels),
                                        std::move(peer), std::move(peerIp))
      ->start(std::move(request));
}

template void startLiveSession(std::shared_ptr<WebServer::Shared>, PortConnection::Socket,
                               BeastRequest, ChannelData, std::string, std::string);
template void startLiveSession(std::shared_ptr<WebServer::Shared>, PortConnection::TlsStream,
                               BeastRequest, ChannelData, std::string, std::string);

}  // namespace aclkd::web
