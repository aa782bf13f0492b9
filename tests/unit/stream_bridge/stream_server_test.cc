// The stream port when its loop is the slow side (the handshake deadline, the views for the
// API): a real StreamServer on 127.0.0.1, real sockets, and loop 0 held busy from inside (its
// once-a-second cloud-identity poll blocks while the test says so), as a reconnect storm's
// definition bursts hold it.

#include "stream_bridge/stream_server.h"
#include "stream_bridge/stream_conf.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <filesystem>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace aclkd::stream_bridge {
namespace {

using namespace std::chrono_literals;

constexpr const char* kKey = "11111111-2222-3333-4444-555555555555";

std::string request(const std::string& guid) {
  return std::string("STREAM key=") + kKey + "&hostname=h-" + guid.substr(0, 8) +
         "&machine_guid=" + guid +
         "&update_every=1&os=linux&hops=1&ver=5&NETDATA_PROTOCOL_VERSION=1.1 HTTP/1.1\r\n"
         "User-Agent: netdata/v1.37.1\r\nAccept: */*\r\n\r\n";
}

int connectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void sendAll(int fd, const std::string& text) {
  ASSERT_EQ(send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

// What the gateway answered: its prompt, or "" when it closed (or said nothing in 10 s).
std::string reply(int fd) {
  char buf[512];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

class StreamServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The warnings of the degraded modes, as the daemon's log would have them.
    logSink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    spdlog::default_logger()->sinks().push_back(logSink_);
    BridgeOptions o;
    o.port = 0;
    o.ioThreads = 1;
    o.compression = false;  // the tests write plain text on the streams
    o.readBatchBytes = readBatchBytes_;
    o.receiveBufferBytes = receiveBufferBytes_;
    o.handshakeTimeout = 3s;
    o.cloudIdentity = [this] {
      stayWhileHeld(frontLoop_);
      return CloudIdentity{};
    };
    std::vector<std::string> warnings, errors;
    auto conf = StreamConf::parse(std::string("[") + kKey + "]\n    enabled = yes\n",
                                  "stream.conf", &warnings, &errors);
    ASSERT_TRUE(conf);
    server_ = std::make_unique<StreamServer>(o, std::make_shared<const StreamConf>(*conf),
                                             std::make_shared<NodeRegistry>(
                                                 [this] { stayWhileHeld(streamLoop_); }));
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
    // One stream, so that loop 0 polls the cloud identity (nobody to tell otherwise).
    streaming_ = connectTo(server_->port());
    sendAll(streaming_, request("7e5dc348-e657-11f1-8a35-02fc000000a1"));
    ASSERT_NE(reply(streaming_), "");
  }
  void TearDown() override {
    releaseLoop();
    if (streaming_ >= 0) close(streaming_);
    server_.reset();
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), logSink_), sinks.end());
  }

  // The warnings logged so far that contain `text`.
  size_t warnings(const std::string& text) {
    spdlog::default_logger()->flush();
    std::istringstream lines(log_.str());
    size_t n = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.find("[warning]") != std::string::npos && line.find(text) != std::string::npos) ++n;
    }
    return n;
  }

  // A loop held from inside: it stops in a callback of its own and stays until released. The
  // first thread to arrive is the one held (the registry also notifies from the front loop).
  struct Hold {
    bool wanted = false;
    bool held = false;
    std::thread::id thread;
  };
  void stayWhileHeld(Hold& hold) {
    std::unique_lock lock(mutex_);
    if (!hold.wanted || (hold.held && hold.thread != std::this_thread::get_id())) return;
    hold.held = true;
    hold.thread = std::this_thread::get_id();
    changed_.notify_all();
    changed_.wait(lock, [&hold] { return !hold.wanted; });
  }
  void waitHeld(Hold& hold) {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, 5s, [&hold] { return hold.held; }));
  }
  // The front loop (loop 0) stops at its next identity poll (within a second).
  void holdLoop() {
    {
      std::lock_guard lock(mutex_);
      frontLoop_.wanted = true;
    }
    waitHeld(frontLoop_);
  }
  // The stream loop stops in the registry's change notification of the host labels the stream
  // sends now (read within a second: under the read batch, the batch sweep reads them).
  void holdStreamLoop() {
    {
      std::lock_guard lock(mutex_);
      streamLoop_.wanted = true;
    }
    sendAll(streaming_, "LABEL \"held\" = 1 \"yes\"\nOVERWRITE labels\n");
    waitHeld(streamLoop_);
  }
  // A child streams, its stream loop is held, it drops the stream and sends its request again
  // at once (a reconnect storm in small): the new connection, its request sent.
  int reconnectWhileTheStreamLoopIsHeld(const std::string& guid) {
    const int first = connectTo(server_->port());
    sendAll(first, request(guid));
    EXPECT_NE(reply(first), "");
    holdStreamLoop();
    close(first);
    const int again = connectTo(server_->port());
    sendAll(again, request(guid));
    return again;
  }
  void releaseLoop() {
    std::lock_guard lock(mutex_);
    frontLoop_.wanted = false;
    streamLoop_.wanted = false;
    changed_.notify_all();
  }

  std::ostringstream log_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> logSink_;
  std::unique_ptr<StreamServer> server_;
  int streaming_ = -1;
  std::mutex mutex_;
  std::condition_variable changed_;
  Hold frontLoop_;
  Hold streamLoop_;
  size_t readBatchBytes_ = BridgeOptions{}.readBatchBytes;
  size_t receiveBufferBytes_ = BridgeOptions{}.receiveBufferBytes;
};

// A reconnect storm, in small: when loop 0 comes back, more sockets are ready than one
// epoll_wait returns (asio asks for 128), and the timer's turn comes before some of them. The
// child here sent its request in time, but it waits in the second batch while its expired
// timeout runs in the first: it gets one more period, not a drop.
TEST_F(StreamServerTest, ARequestLeftUnreadByABusyLoopIsServedNotDropped) {
  const int child = connectTo(server_->port());
  const auto connected = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1s);
  // Connected a second later, so their own timeouts (3 s) are usually still running when the
  // loop comes back; accepted before the loop is held, so they are in its epoll set.
  std::vector<int> fillers;
  for (int i = 0; i < 160; ++i) fillers.push_back(connectTo(server_->port()));
  std::this_thread::sleep_for(200ms);
  holdLoop();
  // The loop's once-a-second sweep timer expires while it is held: the timer descriptor goes
  // first in the kernel's ready list, then the fillers, then the child.
  std::this_thread::sleep_for(1100ms);
  for (int fd : fillers) sendAll(fd, "GET / HTTP/1.1\r\n\r\n");
  sendAll(child, request("7e5dc348-e657-11f1-8a35-02fc000000b2"));
  std::this_thread::sleep_until(std::max(std::chrono::steady_clock::now(), connected + 3100ms));
  releaseLoop();
  EXPECT_NE(reply(child), "") << "the child sent its request in time: it gets the prompt";
  const auto& c = server_->counters();
  // The child's, and on a slow machine some fillers' too (their timeouts run from a second
  // later; they are handed to web/, or extended the same way, never dropped).
  EXPECT_GE(c.handshakesLate.load(), 1u);
  EXPECT_GE(warnings("unread on a busy loop; given another 3 s"), 1u);
  EXPECT_EQ(c.dropped.load(), 0u);
  EXPECT_EQ(c.accepted.load(), 2u);
  for (int fd : fillers) close(fd);
  close(child);
}

TEST_F(StreamServerTest, AHandshakeCompletedInTheTurnItsTimerExpiredStays) {
  const int child = connectTo(server_->port());
  const auto connected = std::chrono::steady_clock::now();
  sendAll(child, "S");  // sniffed as a stream; the rest of the request is awaited
  std::this_thread::sleep_for(100ms);
  holdLoop();
  sendAll(child, request("7e5dc348-e657-11f1-8a35-02fc000000c3").substr(1));
  std::this_thread::sleep_until(connected + 3100ms);
  releaseLoop();  // the read and the expired timer are handled in one turn, the read first
  EXPECT_NE(reply(child), "");
  std::this_thread::sleep_for(200ms);
  const auto& c = server_->counters();
  EXPECT_EQ(c.dropped.load(), 0u) << "the stale timeout must not drop the accepted stream";
  EXPECT_EQ(c.accepted.load(), 2u);
  char byte;
  EXPECT_EQ(recv(child, &byte, 1, MSG_DONTWAIT), -1) << "the stream is still open";
  close(child);
}

TEST_F(StreamServerTest, APeerThatSentNothingIsStillDroppedAtTheTimeout) {
  const int child = connectTo(server_->port());
  EXPECT_EQ(reply(child), "") << "closed after the handshake timeout";
  const auto& c = server_->counters();
  EXPECT_EQ(c.dropped.load(), 1u);
  EXPECT_EQ(c.handshakesLate.load(), 0u);
  EXPECT_EQ(warnings("dropped: no complete request within 3 s"), 1u);
  close(child);
}

// `aclkctl streams` and /metrics ask every loop for its views; a loop that is busy does not hold
// the caller for longer than 2 s, and the answer says it is short instead of being silently so.
TEST_F(StreamServerTest, ABusyLoopsViewsAreCountedLateAndTheStreamCountStaysExact) {
  EXPECT_EQ(server_->streams().size(), 1u);
  holdStreamLoop();
  const auto asked = std::chrono::steady_clock::now();
  const auto views = server_->streams();
  const auto waited = std::chrono::steady_clock::now() - asked;
  releaseLoop();
  ASSERT_EQ(views.size(), 1u) << "the held loop's last answer";
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(server_->counters().viewsLate.load(), 1u);
  EXPECT_EQ(warnings("did not hand over their stream views within 2000 ms (busy); this answer "
                     "lists 1 of 1 streams, 1 of them as of their loop's last answer"),
            1u);
  EXPECT_EQ(server_->streamingCount(), 1u) << "the count does not depend on the views";
  EXPECT_EQ(server_->streams().size(), 1u);
  EXPECT_EQ(server_->counters().viewsLate.load(), 1u);
}

// /metrics' per-stream series are written on the stream loops (no view copied to the caller);
// a busy loop gives the text of its last answer, as with the views.
TEST_F(StreamServerTest, StreamTextIsWrittenOnTheStreamLoopAndABusyLoopGivesItsLastText) {
  // Shared: the held loop writes again once released, after the late answer was given.
  auto writers = std::make_shared<std::vector<std::thread::id>>();
  const auto write = [writers](const StreamView& v, std::vector<std::string>& parts) {
    writers->push_back(std::this_thread::get_id());
    parts[0] += v.machineGuid + "\n";
    parts[1] += std::to_string(v.samples) + "\n";
  };
  const auto text = server_->streamText(2, write);
  size_t streams = 0;
  std::string guids;
  for (const auto& loop : text) {
    ASSERT_EQ(loop->parts.size(), 2u);
    streams += loop->streams;
    guids += loop->parts[0];
  }
  EXPECT_EQ(streams, 1u);
  EXPECT_EQ(guids, server_->streams().at(0).machineGuid + "\n");
  ASSERT_EQ(writers->size(), 1u);
  EXPECT_NE(writers->at(0), std::this_thread::get_id()) << "written on the stream's loop";

  holdStreamLoop();
  const auto late = server_->streamText(2, write);
  releaseLoop();
  std::string again;
  for (const auto& loop : late) again += loop->parts[0];
  EXPECT_EQ(again, guids) << "the held loop's last text";
  EXPECT_EQ(server_->counters().viewsLate.load(), 1u);
}

// The stream loops are bulk threads (common/thread_priority.h): SCHED_BATCH, while the front
// loop, which answers handshakes and HTTP, keeps the default policy.
TEST_F(StreamServerTest, StreamLoopsRunAsBulkThreadsAndTheFrontLoopDoesNot) {
  size_t batch = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    const pid_t tid = std::stoi(task.path().filename().string());
    if (sched_getscheduler(tid) == SCHED_BATCH) ++batch;
  }
  EXPECT_EQ(batch, 1u) << "one stream loop (io threads = 1), and no other thread";
}

// A reconnect storm, in small: the stream loops are busy (here: held), and a new child's
// handshake is still read, decided and answered, by the front loop.
TEST_F(StreamServerTest, AHandshakeIsAnsweredWhileTheStreamLoopIsBusy) {
  holdStreamLoop();
  const int child = connectTo(server_->port());
  sendAll(child, request("7e5dc348-e657-11f1-8a35-02fc000000d4"));
  EXPECT_NE(reply(child), "") << "the prompt comes from the front loop";
  releaseLoop();
  EXPECT_EQ(server_->counters().accepted.load(), 2u);
  close(child);
}

// A reconnect storm, in small: the child dropped its stream and reconnects at once, but its
// stream loop (held here, as by other children's definition bursts) has not handled the close
// yet. The new request waits for it instead of being refused as a second stream of the GUID.
TEST_F(StreamServerTest, AReconnectWaitsForItsPreviousStreamsCloseInsteadOfBeingRefused) {
  const int again = reconnectWhileTheStreamLoopIsHeld("7e5dc348-e657-11f1-8a35-02fc000000e5");
  const auto asked = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(500ms);
  releaseLoop();  // the stream loop handles the close, which wakes the waiting request
  EXPECT_NE(reply(again), "") << "accepted, not refused";
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 950ms)
      << "woken by the close, not by the check a second after the request";
  const auto& c = server_->counters();
  EXPECT_EQ(c.refused.load(), 0u);
  EXPECT_EQ(c.attachWaits.load(), 1u);
  EXPECT_EQ(warnings("was still open; the request waited"), 1u);
  close(again);
}

// The close's notice and the once-a-second check can be due together: whichever runs first
// attaches, and the other must not attach again (it did, and the stream, already its stream
// loop's, lost its host: a crash in a 10,000-children storm). Here the front loop is held while
// the close's notice is posted to it and the check expires, so both wait for it together.
TEST_F(StreamServerTest, ANoticeAndACheckDueTogetherAttachOnce) {
  const int again = reconnectWhileTheStreamLoopIsHeld("7e5dc348-e657-11f1-8a35-02fc00000100");
  holdLoop();  // the request waits: its check is armed, the old stream's close not handled
  {
    std::lock_guard lock(mutex_);
    streamLoop_.wanted = false;  // the close is handled, its notice posted to the held loop
    changed_.notify_all();
  }
  std::this_thread::sleep_for(1200ms);  // and the check expires
  releaseLoop();
  ASSERT_NE(reply(again), "") << "accepted";
  sendAll(again, "CHART system.cpu '' 'CPU' '%' cpu system.cpu line 100 1 '' '' ''\n"
                 "DIMENSION user '' absolute 1 1 ''\nBEGIN system.cpu\nSET user = 1\nEND\n");
  std::this_thread::sleep_for(1500ms);  // read by the batch sweep at the latest
  EXPECT_EQ(server_->streamingCount(), 2u) << "the held stream and the reconnected one";
  EXPECT_EQ(server_->counters().refused.load(), 0u);
  close(again);
}

TEST_F(StreamServerTest, ASecondLiveStreamOfAGuidIsRefusedAfterTheWait) {
  const std::string guid = "7e5dc348-e657-11f1-8a35-02fc000000f6";
  const int first = connectTo(server_->port());
  sendAll(first, request(guid));
  ASSERT_NE(reply(first), "");
  const int second = connectTo(server_->port());
  const auto asked = std::chrono::steady_clock::now();
  sendAll(second, request(guid));
  EXPECT_EQ(reply(second), std::string(kReplyAlreadyStreaming));
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 4900ms)
      << "after 5 s of waiting (past the 3 s handshake timeout: the request was complete)";
  EXPECT_EQ(server_->counters().refused.load(), 1u);
  EXPECT_EQ(server_->counters().attachWaits.load(), 0u);
  close(second);
  close(first);
}

// Read batching: a stream that sends less than [stream] read batch bytes is not read per chunk
// (no wake-up: the socket's low-water mark is not reached) but by the batch sweep, within a
// second, and what it sent is not lost.
TEST_F(StreamServerTest, ChunksUnderTheReadBatchAreReadByTheSweepWithinASecond) {
  const auto& c = server_->counters();
  const uint64_t readsBefore = c.reads.load();
  const uint64_t sweptBefore = c.batchReads.load();
  const auto sent = std::chrono::steady_clock::now();
  holdStreamLoop();  // returns once the registry saw the labels: they were read and parsed
  const auto seen = std::chrono::steady_clock::now() - sent;
  releaseLoop();
  EXPECT_LT(seen, 3s);
  EXPECT_EQ(c.reads.load(), readsBefore + 1) << "one read took the two lines";
  EXPECT_EQ(c.batchReads.load(), sweptBefore + 1) << "and the sweep made it";
}

// `[stream] read batch bytes = 0`: no low-water mark, no batch sweep; every chunk is read when it
// arrives, as before batching.
class StreamServerUnbatchedTest : public StreamServerTest {
 protected:
  StreamServerUnbatchedTest() { readBatchBytes_ = 0; }
};

TEST_F(StreamServerUnbatchedTest, ChunksAreReadWhenTheyArriveNotByTheSweep) {
  const auto& c = server_->counters();
  const uint64_t readsBefore = c.reads.load();
  holdStreamLoop();  // returns once the registry saw the labels
  releaseLoop();
  EXPECT_EQ(c.reads.load(), readsBefore + 1);
  EXPECT_EQ(c.batchReads.load(), 0u) << "no stream is in a batch";
}

// `[stream] receive buffer bytes`: set on the listener, so the accepted sockets (here the
// gateway's end of the fixture's stream, in this process) have it from their handshake on.
class StreamServerReceiveBufferTest : public StreamServerTest {
 protected:
  StreamServerReceiveBufferTest() { receiveBufferBytes_ = 32768; }
};

// SO_RCVBUF of this process's TCP sockets whose local port is `port`: listening or accepted.
std::vector<int> receiveBuffersOnPort(int port) {
  std::vector<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int type = 0;
    socklen_t typeLen = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLen) != 0 || type != SOCK_STREAM) continue;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.ss_family != AF_INET) {
      continue;
    }
    if (ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port) != port) continue;
    int bytes = 0;
    socklen_t bytesLen = sizeof bytes;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, &bytesLen) == 0) out.push_back(bytes);
  }
  return out;
}

TEST_F(StreamServerReceiveBufferTest, TheListenerAndEveryAcceptedSocketHaveIt) {
  const auto buffers = receiveBuffersOnPort(server_->port());
  ASSERT_EQ(buffers.size(), 2u) << "the listener and the accepted stream";
  for (const int b : buffers) EXPECT_EQ(b, 2 * 32768) << "the kernel doubles what is set";
}

TEST_F(StreamServerTest, WithoutTheOptionTheKernelsBufferIsLeftAlone) {
  for (const int b : receiveBuffersOnPort(server_->port())) EXPECT_NE(b, 2 * 32768);
}

}  // namespace
}  // namespace aclkd::stream_bridge
