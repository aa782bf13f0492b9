#include "stream_bridge/function_calls.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "stream_bridge/stream_parser.h"
#include "unit/function_result_events.h"

namespace aclkd::stream_bridge {
namespace {

using Clock = FunctionCalls::Clock;
using std::chrono::seconds;

class FunctionCallsTest : public ::testing::Test {
 protected:
  FunctionCallsTest() { make(true, FunctionCalls::Limits{}); }

  void make(bool bodies, FunctionCalls::Limits limits) {
    calls.emplace([this](std::string line) { sent.push_back(std::move(line)); }, bodies, limits,
                  [this] { return "txn" + std::to_string(++txns); });
  }

  FunctionCallRequest request(std::string command = "netdata-streaming", int timeout = 10) {
    FunctionCallRequest r;
    r.command = std::move(command);
    r.timeoutSeconds = timeout;
    r.access = 0x1b;
    r.source = "method=NC,role=admin,permissions=0x1b";
    r.deadline = now + seconds(60);
    return r;
  }

  void start(uint64_t id, FunctionCallRequest r) {
    calls->start(id, std::move(r), [this, id](FunctionCallResult res) {
      results.emplace_back(id, std::move(res));
    }, now);
  }

  Clock::time_point now = Clock::now();
  std::vector<std::string> sent;
  std::vector<std::pair<uint64_t, FunctionCallResult>> results;
  int txns = 0;
  // Last: destroyed first, while what its final completions write to still exists.
  std::optional<FunctionCalls> calls;
};

TEST_F(FunctionCallsTest, ACallIsOneLineWithAccessAndSource) {
  start(1, request("config tree '/' ''", 30));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "FUNCTION txn1 30 \"config tree '/' ''\" \"0x1b\" "
                     "\"method=NC,role=admin,permissions=0x1b\"\n");
  EXPECT_EQ(calls->inFlight(), 1u);
}

TEST_F(FunctionCallsTest, ACallWithABodyIsAPayloadBlock) {
  auto r = request("config go.d:nginx update");
  r.payload = "{\"a\":1}";
  start(1, r);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "FUNCTION_PAYLOAD txn1 10 \"config go.d:nginx update\" \"0x1b\" "
                     "\"method=NC,role=admin,permissions=0x1b\" \"application/json\"\n"
                     "{\"a\":1}\nFUNCTION_PAYLOAD_END\n");
}

TEST_F(FunctionCallsTest, TheTimeoutNeverPassesTheCallersBudget) {
  auto r = request("f", 100);
  r.deadline = now + seconds(7);
  start(1, r);
  EXPECT_NE(sent[0].find("FUNCTION txn1 7 "), std::string::npos) << sent[0];
}

TEST_F(FunctionCallsTest, TheAnswerIsAssembledFromAnySplit) {
  const std::string body = "{\n  \"rows\": [1, 2, 3],\n  \"x\": \"FUNCTION_RESULT_END not\",\n  \"long\": \"" +
                           std::string(150, 'y') + "\"\n}";
  const std::string block = "BEGIN a.b\nSET x = 1\nEND\nFUNCTION_RESULT_BEGIN txn1 200 "
                            "application/json 1700000000\n" + body +
                            "\nFUNCTION_RESULT_END\nBEGIN a.b\nEND\n";
  for (size_t cut = 0; cut <= block.size(); ++cut) {
    results.clear();
    sent.clear();
    txns = 0;
    make(true, FunctionCalls::Limits{});
    start(1, request());
    ResultEvents events(*calls);
    StreamParser parser(events, 64);  // a small line limit: long body lines go in pieces
    std::string error;
    ASSERT_TRUE(parser.feed(std::string_view(block).substr(0, cut), &error)) << error;
    ASSERT_TRUE(parser.feed(std::string_view(block).substr(cut), &error)) << error;
    ASSERT_EQ(results.size(), 1u) << cut;
    const auto& r = results[0].second;
    EXPECT_EQ(r.outcome, FunctionOutcome::kAnswered) << cut;
    EXPECT_EQ(r.code, 200);
    EXPECT_EQ(r.contentType, "application/json");
    EXPECT_EQ(r.expires, 1700000000);
    ASSERT_EQ(r.body, body) << cut;
    EXPECT_EQ(parser.stats().sampleLines, 1u);
    EXPECT_EQ(calls->inFlight(), 0u);
  }
}

TEST_F(FunctionCallsTest, ATimedOutCallIsCancelledDownTheStream) {
  start(1, request("f", 5));
  calls->expire(now + seconds(4));
  EXPECT_TRUE(results.empty());
  calls->expire(now + seconds(5));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.outcome, FunctionOutcome::kTimeout);
  EXPECT_EQ(sent.back(), "FUNCTION_CANCEL txn1\n");
  // Its late answer is a stray, read and dropped.
  calls->resultBegin("txn1", 200, "text/plain", 0);
  calls->resultBody("late");
  calls->resultEnd();
  EXPECT_EQ(results.size(), 1u);
  EXPECT_EQ(calls->strayResults(), 1u);
}

TEST_F(FunctionCallsTest, ProgressGivesTheCallItsTimeAgainWithinTheBudget) {
  auto r = request("f", 5);
  r.deadline = now + seconds(8);
  start(1, r);
  calls->progress("txn1", now + seconds(4));
  calls->expire(now + seconds(6));
  EXPECT_TRUE(results.empty());
  calls->expire(now + seconds(8));  // the budget, not now + 4 + 5
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.outcome, FunctionOutcome::kTimeout);
}

TEST_F(FunctionCallsTest, CancelSendsFunctionCancelAndCompletesOnce) {
  start(1, request());
  start(2, request());
  calls->cancel(2);
  calls->cancel(2);
  calls->cancel(99);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].first, 2u);
  EXPECT_EQ(results[0].second.outcome, FunctionOutcome::kCancelled);
  EXPECT_EQ(sent.back(), "FUNCTION_CANCEL txn2\n");
  // Cancelled while its answer arrives: the rest of the block is dropped.
  calls->resultBegin("txn1", 200, "a/b", 0);
  calls->resultBody("part");
  calls->cancel(1);
  calls->resultBody("more");
  calls->resultEnd();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].second.outcome, FunctionOutcome::kCancelled);
}

TEST_F(FunctionCallsTest, ABoundedNumberInFlight) {
  FunctionCalls::Limits limits;
  limits.maxInFlight = 2;
  make(true, limits);
  start(1, request());
  start(2, request());
  start(3, request());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.outcome, FunctionOutcome::kOverloaded);
  EXPECT_EQ(sent.size(), 2u);
}

TEST_F(FunctionCallsTest, ATooLargeAnswerIsRefusedNotKept) {
  FunctionCalls::Limits limits;
  limits.maxResultBytes = 10;
  make(true, limits);
  start(1, request());
  calls->resultBegin("txn1", 200, "a/b", 0);
  calls->resultBody("0123456789");
  calls->resultBody("\n");  // the last line's newline is not the body's: still 10 bytes
  calls->resultEnd();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.outcome, FunctionOutcome::kAnswered);
  start(2, request());
  calls->resultBegin("txn2", 200, "a/b", 0);
  calls->resultBody("0123456789A\n");
  calls->resultEnd();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].second.outcome, FunctionOutcome::kTooLarge);
}

TEST_F(FunctionCallsTest, AStreamThatGoesFailsEveryCallAtOnce) {
  start(1, request());
  start(2, request());
  calls->failAll("the stream of x closed before the answer");
  ASSERT_EQ(results.size(), 2u);
  for (const auto& [id, r] : results) {
    EXPECT_EQ(r.outcome, FunctionOutcome::kStreamGone);
    EXPECT_EQ(r.error, "the stream of x closed before the answer");
  }
  EXPECT_EQ(calls->inFlight(), 0u);
}

TEST_F(FunctionCallsTest, NothingThatCouldForgeALineGoesDown) {
  const std::vector<std::string> commands = {"f\" \"0xffff", "f\nREPLAY_CHART x", "f\r",
                                             std::string("f\0g", 3), "", std::string(9000, 'a')};
  uint64_t id = 0;
  for (const auto& c : commands) start(++id, request(c));
  auto r = request();
  r.source = "method=NC\"";
  start(++id, r);
  r = request();
  r.payload = "{}\nFUNCTION_PAYLOAD_END\nNODE_ID 'a' 'b' 'c'\n";
  start(++id, r);
  r = request();
  r.payload = std::string("{\0}", 3);
  start(++id, r);
  EXPECT_TRUE(sent.empty());
  ASSERT_EQ(results.size(), id);
  for (const auto& [i, res] : results) {
    EXPECT_EQ(res.outcome, FunctionOutcome::kRefused) << i;
    EXPECT_FALSE(res.error.empty());
  }
  // The closer inside a line is harmless, and goes.
  r = request();
  r.payload = "{\"x\": \"FUNCTION_PAYLOAD_END\"}";
  start(++id, r);
  EXPECT_EQ(sent.size(), 1u);
}

TEST_F(FunctionCallsTest, AnOldAgentTakesNoBody) {
  make(false, FunctionCalls::Limits{});
  auto r = request();
  r.payload = "{}";
  start(1, r);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.outcome, FunctionOutcome::kRefused);
  EXPECT_TRUE(sent.empty());
}

}  // namespace
}  // namespace aclkd::stream_bridge
