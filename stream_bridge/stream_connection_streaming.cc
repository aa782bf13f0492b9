// One connection on the stream port once it streams (stream_connection_impl.h): batched reads, the
// stream decompressed and parsed, the parser's events escaped and forwarded to the registry,
// function calls, and what goes down to the child.

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/untrusted_text.h"
#include "stream_bridge/stream_connection_impl.h"
#include "stream_bridge/stream_path.h"

namespace aclkd::stream_bridge {
// ---- StreamEvents: escaped and forwarded to the registry (EscapingEvents), plus the
// replication answer, the per-sample path and what a v2 child sends about its path.
void StreamConnection::onChartDefinitionEnd(std::string_view c, int64_t f, int64_t l, int64_t now) {
  EscapingEvents::onChartDefinitionEnd(c, f, l, now);
  queueOut("REPLAY_CHART \"");  // written after the read (flushOut in onStreamData)
  queueOut(c);
  queueOut("\" \"true\" 0 0\n");
}
void StreamConnection::onSamples(std::string_view c, int64_t t) {
  // The per-sample path: a chart seen before on this stream is matched raw (see sampleCached).
  if (!host_->sampleCached(c, t)) EscapingEvents::onSamples(c, t);
}
void StreamConnection::onStreamPath(std::string_view json) {
  if (!(negotiated_ & cap::kPaths)) return;
  std::string error;
  auto hops = parseStreamPath(json, &error);
  if (!hops) {
    return server_.warnLimited(peerIp_, "bad-stream-path",
                               "stream from " + peer_ + ": ignored a STREAM_PATH: " + error);
  }
  spdlog::debug("STREAM [receive from [{}]:{}]: stream path of {} hop(s)", peerIp_,
                request_.hostname, hops->size());
  if (identity_) identity_->setChildPath(std::move(*hops));
  syncIdentity(*server_.currentIdentity());
}

// ---- what a v2 parent sends down (DownstreamIdentity) ------------------------------------ Only
// after the child spoke: the prompt travels alone (docs/protocol/streaming.md §3.3, its own read
// at the child), and every command after it is one whole line. No empty line goes before the
// first one: a v2.10.4 child logs an empty line as "received unknown command over connection:
// (unset)" at error level (seen in the lab), and a real parent sends none. Runs on the
// connection's own loop thread.
void StreamConnection::syncIdentity(const CloudIdentity& id) {
  if (closed_ || !parser_ || !spoke_ || !identity_) return;
  const GatewayHop self{server_.options.ownHostname, server_.options.ownMachineGuid,
                        server_.startedMs, cap::kBridgeSupported};
  for (auto& line : identity_->commands(id, self)) send(std::move(line));
}

// ---- function calls (FunctionCalls), on this loop's thread --------------------------------
void StreamConnection::startCall(uint64_t id, FunctionCallRequest request, FunctionDone done) {
  if (closed_ || !calls_) {
    FunctionCallResult r;
    r.outcome = FunctionOutcome::kStreamGone;
    r.error = calls_ ? "the node's stream closed before the call was sent"
                     : "the node's stream did not negotiate FUNCTIONS";
    return done(std::move(r));
  }
  const bool wasIdle = calls_->inFlight() == 0;
  calls_->start(id, std::move(request), std::move(done), SteadyClock::now());
  if (wasIdle && calls_->inFlight() > 0) loop_->calling.push_back(selfPtr());
  fitLowWater();
}
void StreamConnection::cancelCall(uint64_t id) {
  if (!calls_) return;
  calls_->cancel(id);
  fitLowWater();
}
bool StreamConnection::expireCalls(SteadyClock::time_point now) {
  if (!calls_) return false;
  calls_->expire(now);
  fitLowWater();
  return calls_->inFlight() > 0;
}
void StreamConnection::onFunctionResultBegin(std::string_view txn, int code,
                                             std::string_view type, int64_t expires) {
  if (!calls_) return;
  const uint64_t strays = calls_->strayResults();
  calls_->resultBegin(txn, code, type, expires);
  if (calls_->strayResults() == strays) return;
  server_.counters.strayFunctionResults++;
  server_.warnLimited(peerIp_, "function-result-stray",
                      "stream from " + peer_ + ": a function result for no call in flight (late "
                      "after a timeout or a cancel) was read and dropped");
}
void StreamConnection::onFunctionResultBody(std::string_view bytes) {
  if (calls_) calls_->resultBody(bytes);
}
void StreamConnection::onFunctionResultEnd() {
  if (!calls_) return;
  calls_->resultEnd();
  if (calls_->inFlight() == 0) fitLowWater();
}
void StreamConnection::onFunctionProgress(std::string_view txn, int64_t, int64_t) {
  if (calls_) calls_->progress(txn, SteadyClock::now());
}

void StreamConnection::onUnknownKeyword(std::string_view keyword) {
  const std::string shown = escapeUntrusted(keyword);
  server_.warnOnce("keyword " + shown, "ignoring unknown keyword '" + shown + "' from " + peer_ +
                                           " (logged once per keyword)");
}

// `prompt`: what is left to write of the prompt (all of it on TLS; usually nothing on a plain
// stream, whose prompt the front loop wrote).
void StreamConnection::startStreaming(const std::string& rest, std::string prompt) {
  lastTick_ = loop_->tick;
  // From here calls for the host find this stream, on this loop.
  server_.registerStream(request_.machineGuid, selfPtr(), loop_);
  // The prompt travels alone: nothing else is written before the child speaks (§3.3).
  if (!prompt.empty()) send(std::move(prompt));
  if (!rest.empty() && !onStreamData(rest.data(), rest.size(), false)) return;
  if (!rest.empty()) childSpoke();
  if (!tls_ && server_.options.readBatchBytes > 1) {
    bucket_ = loop_->batchNext++ % kBatchBuckets;
    loop_->batch[bucket_].push_back(this);
    lastReadBatchTick_ = loop_->batchTick;
    fitLowWater();
  }
  readStream();
}

// ---- batched reads ---------------------------------------------------------------------------
// Samples are counted and dropped: nothing downstream waits for them. A child sends a second's
// samples in about ten small writes (its collectors' pace), so waking for each costs an
// epoll_wait and a recv per write: at 10,000 children, 100,000 wake-ups a second for 12 KB a
// child. So a plain stream's socket carries a low-water mark (SO_RCVLOWAT, [stream] read batch
// bytes): the kernel wakes the loop only once that many bytes wait (the end of the stream and
// errors still wake it at once), and the loop's batch sweep reads whatever stays under the mark
// at least once a second (one bucket of streams per kBatchPeriod, so the reads spread over the
// second instead of arriving as one lump). Metadata may be a second late; no sample is lost (the
// kernel keeps the bytes); the idle sweep still sees every stream that sends. While a function
// call is in flight the mark is 1, so its answer is read the moment it arrives. TLS streams are
// not batched: the TLS layer reads ahead of the socket.

void StreamConnection::batchRead(uint32_t batchTick) {
  if (closed_ || bucket_ == kNoBucket) return;
  // Read by a wake-up within the last half second: little can wait, and a read costs a syscall.
  if (batchTick - lastReadBatchTick_ < kBatchBuckets / 2) return;
  // The wait armed by readStream() stays: it fires when the mark is reached next.
  readAvailable(true);
}

// The mark this stream needs now: the batch while it is batched and no call is in flight, else 1.
void StreamConnection::fitLowWater() {
  const bool calling = calls_ && calls_->inFlight() > 0;
  const size_t wanted = bucket_ != kNoBucket && !calling ? server_.options.readBatchBytes : 1;
  if (wanted == lowWater_) return;
  const int value = static_cast<int>(wanted);
  // Linux signals readiness at once when the new mark is already reached (tcp_set_rcvlowat).
  if (::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value) != 0) {
    // Not expected on a TCP socket; the stream is then read chunk by chunk, as before batching.
    server_.warnOnce("rcvlowat", "cannot set SO_RCVLOWAT on a stream socket (" +
                                     std::string(std::strerror(errno)) +
                                     "); streams are read chunk by chunk (logged once)");
    return leaveBatch();
  }
  lowWater_ = wanted;
}

void StreamConnection::leaveBatch() {
  if (bucket_ == kNoBucket) return;
  auto& bucket = loop_->batch[bucket_];
  bucket.erase(std::remove(bucket.begin(), bucket.end(), this), bucket.end());
  bucket_ = kNoBucket;
}

void StreamConnection::readStream() {
  auto self = selfPtr();
  if (tls_) {
    return readSome([self](error_code ec, size_t n) {
      if (ec) return self->streamEnded(ec);
      if (self->onStreamData(self->readData(), n, true)) self->readStream();
    });
  }
  socket_.async_wait(tcp::socket::wait_read, [self](error_code ec) {
    if (ec) return self->streamEnded(ec);
    if (self->readAvailable(false)) self->readStream();
  });
}

// Reads until the socket is empty (a read shorter than the buffer), parsing each piece: one
// wake-up takes what the child sent since the last one. At most 16 reads (1 MiB) before the
// loop serves the others again. False once the stream ended or was dropped.
bool StreamConnection::readAvailable(bool bySweep) {
  auto& buffer = loop_->sharedRead;
  lastReadBatchTick_ = loop_->batchTick;
  for (int reads = 0; reads < 16; ++reads) {
    error_code ec;
    const size_t n = socket_.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      streamEnded(ec);
      return false;
    }
    server_.counters.reads++;
    if (bySweep) server_.counters.batchReads++;
    if (!onStreamData(buffer.data(), n, true)) return false;
    if (n < buffer.size()) break;
  }
  return true;
}

void StreamConnection::streamEnded(error_code ec) {
  if (ec != asio::error::operation_aborted) {
    spdlog::info("STREAM [receive from [{}]:{}]: connection closed ({})", peerIp_,
                 request_.hostname, ec.message());
  }
  close();
}

// One piece of the stream; false when the stream had to be dropped.
bool StreamConnection::onStreamData(const char* data, size_t n, bool fromWire) {
  if (fromWire) {
    wireBytes_ += n;
    server_.counters.wireBytes += n;
  }
  lastTick_ = loop_->tick;
  const bool ok = consume(data, n);
  syncTotals();
  if (!ok) return false;
  flushOut();  // the REPLAY_CHART answers of this piece, in one write
  if (fromWire && n > 0 && !spoke_) childSpoke();
  return true;
}

// The child's first bytes after the prompt: what a v2 parent sends down may follow now.
void StreamConnection::childSpoke() {
  if (spoke_) return;
  spoke_ = true;
  syncIdentity(*server_.currentIdentity());
}

// Decompresses and parses one piece; false when the stream had to be dropped.
bool StreamConnection::consume(const char* data, size_t n) {
  host_->refreshClock();
  std::string error;
  if (decoder_) {
    auto& text = loop_->sharedText;
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

// ---- what goes down to the child -------------------------------------------------------------
// One buffer fills while the other is being written, instead of a string (and a write) per line:
// a definition burst answers every chart with a REPLAY_CHART line, 324 of them for a 1.37 child,
// and as separate strings they left ~25 KB of small holes per child in the heap after the burst
// (heaptrack, 1,000 children: the largest live-then-freed allocation site). The lines one read
// produces go out in one write (flushOut after the read); both buffers are released once empty.
void StreamConnection::queueOut(std::string_view data) { pendingOut_.append(data); }

void StreamConnection::flushOut() {
  // A write is in flight while inFlightOut_ holds bytes (it is cleared when the write is done).
  if (!inFlightOut_.empty() || pendingOut_.empty()) return;
  inFlightOut_.swap(pendingOut_);
  auto self = selfPtr();
  auto done = [self](error_code ec, size_t) {
    self->inFlightOut_.clear();
    if (ec) return self->close();
    if (self->pendingOut_.empty()) {
      std::string().swap(self->inFlightOut_);
      std::string().swap(self->pendingOut_);
      if (self->closeAfterWrite_) return self->close();
      return;
    }
    self->flushOut();
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(inFlightOut_), done);
  } else {
    asio::async_write(socket_, asio::buffer(inFlightOut_), done);
  }
}

void StreamConnection::send(std::string_view data) {
  queueOut(data);
  flushOut();
}

// Adds what the parser counted since the last call to the server's monotonic totals, so the
// totals keep a stream's samples after it disconnects.
void StreamConnection::syncTotals() {
  if (!parser_) return;
  const auto& st = parser_->stats();
  server_.counters.samples += st.sampleLines - reported_.sampleLines;
  server_.counters.malformedLines += st.malformedLines - reported_.malformedLines;
  reported_ = st;
}

}  // namespace aclkd::stream_bridge
