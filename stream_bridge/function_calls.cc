#include "stream_bridge/function_calls.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "common/fail_with.h"
#include "common/uuid.h"

namespace aclkd::stream_bridge {
namespace {

constexpr std::string_view kPayloadEnd = "FUNCTION_PAYLOAD_END";
constexpr size_t kMaxWordBytes = 8192;  // a command line the child reads in one piece

bool safeWord(std::string_view s) {
  if (s.size() > kMaxWordBytes) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == '"';
  });
}

// The payload holds a line that is exactly the closer (the child compares whole lines).
bool holdsPayloadEnd(std::string_view p) {
  for (size_t at = p.find(kPayloadEnd); at != std::string_view::npos;
       at = p.find(kPayloadEnd, at + 1)) {
    const bool startsLine = at == 0 || p[at - 1] == '\n';
    const size_t after = at + kPayloadEnd.size();
    const bool endsLine = after == p.size() || p[after] == '\n';
    if (startsLine && endsLine) return true;
  }
  return false;
}

std::string hexAccess(uint32_t access) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", access);
  return buf;
}

int secondsLeft(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
  return static_cast<int>(std::max<int64_t>(1, left));
}

}  // namespace

bool checkSafeForStream(const FunctionCallRequest& r, std::string* error) {
  if (r.command.empty()) return failWith(error, "no function named");
  if (!safeWord(r.command)) {
    return failWith(error,
                    "the function and its arguments may not hold a double quote or a control "
                    "character (or be longer than 8192 bytes)");
  }
  if (!safeWord(r.source)) {
    return failWith(error, "the caller's source holds a double quote or a control character");
  }
  if (!safeWord(r.contentType)) {
    return failWith(error, "the content type holds a double quote or a control character");
  }
  if (r.payload.find('\0') != std::string::npos) {
    return failWith(error, "the request body holds a NUL byte");
  }
  if (holdsPayloadEnd(r.payload)) {
    return failWith(error, "the request body holds a line FUNCTION_PAYLOAD_END");
  }
  return true;
}

FunctionCalls::FunctionCalls(Send send, bool bodiesAccepted, Limits limits,
                             std::function<std::string()> txn)
    : send_(std::move(send)), bodiesAccepted_(bodiesAccepted), limits_(limits),
      txn_(txn ? std::move(txn) : std::function<std::string()>(newUuid)) {}

FunctionCalls::~FunctionCalls() { failAll("the stream closed before the answer"); }

void FunctionCalls::start(uint64_t id, FunctionCallRequest r, FunctionDone done,
                          Clock::time_point now) {
  FunctionCallResult refused;
  if (std::string why; !checkSafeForStream(r, &why)) {
    refused.outcome = FunctionOutcome::kRefused;
    refused.error = why;
    return done(std::move(refused));
  }
  if (!r.payload.empty() && !bodiesAccepted_) {
    refused.outcome = FunctionOutcome::kRefused;
    refused.error = "the node's agent is too old to take a request body (it negotiated neither "
                    "PROGRESS nor DYNCFG)";
    return done(std::move(refused));
  }
  if (calls_.size() >= limits_.maxInFlight) {
    refused.outcome = FunctionOutcome::kOverloaded;
    refused.error = std::to_string(calls_.size()) + " calls already in flight on the stream";
    return done(std::move(refused));
  }
  if (r.deadline <= now) {
    refused.outcome = FunctionOutcome::kTimeout;
    refused.error = "no time left for the call";
    return done(std::move(refused));
  }
  const int timeout = std::min(std::max(1, r.timeoutSeconds), secondsLeft(now, r.deadline));
  std::string txn = txn_();
  Call call;
  call.id = id;
  call.done = std::move(done);
  call.timeoutSeconds = timeout;
  call.due = std::min(now + std::chrono::seconds(timeout), r.deadline);
  call.deadline = r.deadline;

  // One write per call: on a stream other commands (replication answers, NODE_ID) must not land
  // inside it.
  std::string line;
  line.reserve(96 + r.command.size() + r.source.size() + r.payload.size());
  const std::string head = txn + " " + std::to_string(timeout) + " \"" + r.command + "\" \"" +
                           hexAccess(r.access) + "\" \"" + r.source + "\"";
  if (r.payload.empty()) {
    line = "FUNCTION " + head + "\n";
  } else {
    line = "FUNCTION_PAYLOAD " + head + " \"" + r.contentType + "\"\n";
    line += r.payload;
    if (line.back() != '\n') line += '\n';
    line += kPayloadEnd;
    line += '\n';
  }
  ids_[id] = txn;
  calls_.emplace(std::move(txn), std::move(call));
  send_(std::move(line));
}

void FunctionCalls::finish(std::map<std::string, Call, std::less<>>::iterator it,
                           FunctionCallResult result) {
  FunctionDone done = std::move(it->second.done);
  ids_.erase(it->second.id);
  if (answering_ == it->first) answering_.clear();  // the rest of its block is dropped
  calls_.erase(it);
  if (done) done(std::move(result));
}

void FunctionCalls::cancel(uint64_t id) {
  const auto ids = ids_.find(id);
  if (ids == ids_.end()) return;
  const auto it = calls_.find(ids->second);
  if (it == calls_.end()) return;
  send_("FUNCTION_CANCEL " + it->first + "\n");
  FunctionCallResult r;
  r.outcome = FunctionOutcome::kCancelled;
  r.error = "cancelled by the caller";
  finish(it, std::move(r));
}

void FunctionCalls::expire(Clock::time_point now) {
  std::vector<std::string> late;
  for (const auto& [txn, call] : calls_) {
    if (call.due <= now) late.push_back(txn);
  }
  for (const auto& txn : late) {
    const auto it = calls_.find(txn);
    send_("FUNCTION_CANCEL " + txn + "\n");
    FunctionCallResult r;
    r.outcome = FunctionOutcome::kTimeout;
    r.error = "no answer from the node within " + std::to_string(it->second.timeoutSeconds) + " s";
    finish(it, std::move(r));
  }
}

void FunctionCalls::failAll(const std::string& why) {
  while (!calls_.empty()) {
    FunctionCallResult r;
    r.outcome = FunctionOutcome::kStreamGone;
    r.error = why;
    finish(calls_.begin(), std::move(r));
  }
}

void FunctionCalls::resultBegin(std::string_view txn, int code, std::string_view contentType,
                                int64_t expires) {
  const auto it = calls_.find(txn);
  answering_.clear();
  if (it == calls_.end()) {
    ++strays_;
    return;
  }
  answering_ = it->first;
  Call& call = it->second;
  call.code = code;
  call.contentType = std::string(contentType);
  call.expires = expires;
  call.body.clear();
}

void FunctionCalls::resultBody(std::string_view bytes) {
  if (answering_.empty()) return;
  Call& call = calls_.find(answering_)->second;
  if (call.tooLarge) return;
  // One byte of slack: the newline that ends the body's last line is not the body's.
  if (call.body.size() + bytes.size() > limits_.maxResultBytes + 1) {
    call.tooLarge = true;
    std::string().swap(call.body);
    return;
  }
  call.body.append(bytes);
}

void FunctionCalls::resultEnd() {
  if (answering_.empty()) return;
  const auto it = calls_.find(answering_);
  answering_.clear();
  Call& call = it->second;
  FunctionCallResult r;
  if (call.tooLarge) {
    r.outcome = FunctionOutcome::kTooLarge;
    r.error = "the node's answer is larger than " + std::to_string(limits_.maxResultBytes) +
              " bytes";
  } else {
    r.outcome = FunctionOutcome::kAnswered;
    r.code = call.code;
    r.contentType = std::move(call.contentType);
    r.expires = call.expires;
    if (!call.body.empty() && call.body.back() == '\n') call.body.pop_back();
    r.body = std::move(call.body);
  }
  finish(it, std::move(r));
}

void FunctionCalls::progress(std::string_view txn, Clock::time_point now) {
  const auto it = calls_.find(txn);
  if (it == calls_.end()) return;
  // A child that reports progress is alive and working: the call gets its time again, within
  // the caller's budget.
  Call& call = it->second;
  call.due = std::min(now + std::chrono::seconds(call.timeoutSeconds), call.deadline);
}

}  // namespace aclkd::stream_bridge
