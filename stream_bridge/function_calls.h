#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace aclkd::stream_bridge {

// A function call for a node, to be written down the stream that node's host holds
// (docs/protocol/streaming.md §15.2).
struct FunctionCallRequest {
  std::string command;       // the function's name and arguments: "config tree '/' ''"
  int timeoutSeconds = 10;   // what the child is told (it stops working after it)
  std::string payload;       // a request body: FUNCTION_PAYLOAD instead of FUNCTION
  std::string contentType = "application/json";  // of the payload
  uint32_t access = 0;       // the caller's HTTP access bits, passed as they came
  std::string source;        // who asks ("method=NC,role=…,permissions=0x…,user=…")
  // The caller's whole budget. The call waits timeoutSeconds for its answer; the child's
  // progress reports may extend that, up to this.
  std::chrono::steady_clock::time_point deadline;
};

enum class FunctionOutcome {
  kAnswered,    // the child answered (any HTTP code)
  kTimeout,     // no answer in time; FUNCTION_CANCEL was sent
  kTooLarge,    // the answer is over the size limit
  kStreamGone,  // the node's stream is not there, or closed before the answer
  kOverloaded,  // too many calls in flight on the stream
  kCancelled,   // the caller gave up; FUNCTION_CANCEL was sent
  kRefused,     // the request cannot go down a stream (a character that would forge a line,
                // a body for an agent too old to take one)
};

struct FunctionCallResult {
  FunctionOutcome outcome = FunctionOutcome::kStreamGone;
  int code = 0;             // the child's HTTP code (kAnswered)
  std::string contentType;  // the child's (kAnswered)
  int64_t expires = 0;      // epoch s; the child's (kAnswered)
  std::string body;
  std::string error;        // why there is no answer, for logs and error bodies
};

// Called exactly once per call, on the stream's loop thread: it must only hand the result over.
using FunctionDone = std::function<void(FunctionCallResult)>;

// Whether a request can be written down a stream as it is; false with *error saying why not
// (docs/protocol/streaming.md §15.2): the command, source and content type go inside double
// quotes on one line, so a quote or a control character would end the word or the line early
// and let the caller write a command of its own; the payload ends at a line
// FUNCTION_PAYLOAD_END, so it may not hold one (nor a NUL, which the child's C strings would cut
// at).
bool checkSafeForStream(const FunctionCallRequest& request, std::string* error);

// The calls in flight on one stream, run by the stream's loop thread: each is written down the
// stream with a fresh transaction id, its answer is matched by that id and assembled from the
// body pieces the parser hands over (interleaved with the samples, never blocking them), bounded
// by maxResultBytes, and handed to its completion. A call past its time and a call the caller
// cancels get FUNCTION_CANCEL down the stream; a stream that closes fails every call at once.
class FunctionCalls {
 public:
  using Clock = std::chrono::steady_clock;
  using Send = std::function<void(std::string)>;
  struct Limits {
    size_t maxInFlight = 32;
    size_t maxResultBytes = 16u << 20;  // the cloud's reply cap (docs/protocol/aclk.md §5.11)
  };

  // `bodiesAccepted`: the child takes FUNCTION_PAYLOAD (agents since v1.45, which negotiate
  // PROGRESS or DYNCFG); `txn` makes the transaction ids (tests; default: random UUIDs).
  FunctionCalls(Send send, bool bodiesAccepted, Limits limits,
                std::function<std::string()> txn = {});
  ~FunctionCalls();  // fails what is still in flight (kStreamGone)

  void start(uint64_t id, FunctionCallRequest request, FunctionDone done, Clock::time_point now);
  // The caller gave up on call `id` (unknown ids are ignored).
  void cancel(uint64_t id);
  // Calls whose time passed get FUNCTION_CANCEL and complete kTimeout.
  void expire(Clock::time_point now);
  // The stream is gone: every call completes kStreamGone with `why`.
  void failAll(const std::string& why);

  // The parser's events for this stream.
  void resultBegin(std::string_view txn, int code, std::string_view contentType, int64_t expires);
  void resultBody(std::string_view bytes);
  void resultEnd();
  void progress(std::string_view txn, Clock::time_point now);

  size_t inFlight() const { return calls_.size(); }
  // Results for calls no longer in flight (late after a timeout or cancel, or never asked).
  uint64_t strayResults() const { return strays_; }

 private:
  struct Call {
    uint64_t id = 0;
    FunctionDone done;
    int timeoutSeconds = 0;
    Clock::time_point due;       // now + timeout, moved on by progress
    Clock::time_point deadline;  // the caller's budget
    std::string body;
    int code = 0;
    std::string contentType;
    int64_t expires = 0;
    bool tooLarge = false;
  };
  void finish(std::map<std::string, Call, std::less<>>::iterator it, FunctionCallResult result);

  Send send_;
  const bool bodiesAccepted_;
  const Limits limits_;
  std::function<std::string()> txn_;
  std::map<std::string, Call, std::less<>> calls_;  // by transaction id
  std::map<uint64_t, std::string> ids_;  // call id -> transaction id
  // The transaction whose body is arriving; "" while none is, or the block is for no call in
  // flight (a stray, or a call that ended meanwhile): its body is then dropped.
  std::string answering_;
  uint64_t strays_ = 0;
};

}  // namespace aclkd::stream_bridge
