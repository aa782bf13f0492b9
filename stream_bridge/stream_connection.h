#pragma once

// One connection of the stream server as its loops see it, and the function that serves a newly
// accepted socket; the concrete class (StreamConnection) is declared in stream_connection_impl.h.
// Private to stream_bridge/.

#include <cstdint>
#include <memory>

#include "stream_bridge/stream_server_impl.h"

namespace aclkd::stream_bridge {

// What the server's loops see of a connection.
// Called on the connection's own loop thread only (what other threads need is in Impl::streaming).
class StreamServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  virtual ~Connection() = default;
  virtual bool streaming() const = 0;
  // Fills `v` in place: a caller that reads many views reuses one's strings (streamText()).
  virtual void fillView(StreamView& v) const = 0;
  StreamView view() const {
    StreamView v;
    fillView(v);
    return v;
  }
  // Seconds without stream data, for the idle sweep (0 while not streaming yet).
  virtual uint32_t idleSeconds(uint32_t tick) const = 0;
  virtual void idleTimeout() = 0;
  // The batch sweep's turn (Loop::batch): reads what waits under the low-water mark, unless a
  // wake-up read the stream recently. `batchTick` is the loop's.
  virtual void batchRead(uint32_t batchTick) = 0;
  // What a v2 parent sends down (NODE_ID, the stream path) from the last polled identity.
  virtual void syncIdentity(const CloudIdentity& id) = 0;
  // Function calls (FunctionCalls): started, cancelled and timed out on the loop's thread.
  virtual void startCall(uint64_t id, FunctionCallRequest request, FunctionDone done) = 0;
  virtual void cancelCall(uint64_t id) = 0;
  // Times out what is due; false once no call is in flight.
  virtual bool expireCalls(SteadyClock::time_point now) = 0;
  // Its handshake waits for the machine GUID's previous stream to close (Impl::waitForHost),
  // which just closed: the attach is tried again now.
  virtual void hostReleased() = 0;
};

// Serves one accepted socket on loop 0 (stream_connection.cc).
void serveConnection(StreamServer::Impl& server, tcp::socket socket);

}  // namespace aclkd::stream_bridge
