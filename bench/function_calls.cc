// Function calls down a stream: StreamServer::callFunction to a child on loopback that answers at
// once, so what is measured is the gateway's part (the call line written, the answer parsed out of
// the stream and handed back) plus a minimal child's read and write.
//
//   function_calls --calls 20000 --in-flight 1      # latency: one call at a time
//   function_calls --calls 50000 --in-flight 32     # throughput: 32 in flight on one stream
//   function_calls --calls 20000 --result-bytes 65536
//   function_calls --hang-streams 100               # memory per call in flight (no answers)
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench/process_stats.h"
#include "stream_bridge/stream_server.h"

using namespace aclkd;
using namespace aclkd::stream_bridge;
using Clock = std::chrono::steady_clock;
using bench::cpuSeconds;

namespace {

constexpr const char* kKey = "11111111-2222-4333-8444-555555555555";


// A child: handshake, one function declared, then every FUNCTION line answered at once (or never,
// with `answer` false). Runs on its own thread; its CPU is measured apart.
class Child {
 public:
  Child(int port, int index, size_t resultBytes, bool answer)
      : body_(resultBytes, 'x'), answer_(answer) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::perror("connect");
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char guid[40];
    std::snprintf(guid, sizeof guid, "aaaaaaaa-bbbb-4ccc-8ddd-%012d", index);
    // VCAPS | V1 | V2 | VN | FUNCTIONS | PROGRESS: plain text, no replication.
    const uint64_t ver = (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 11) | (1u << 22);
    const std::string request = std::string("STREAM key=") + kKey + "&hostname=bench-" +
                                std::to_string(index) + "&machine_guid=" + guid +
                                "&hops=1&ver=" + std::to_string(ver) +
                                "&NETDATA_PROTOCOL_VERSION=1.1 HTTP/1.1\r\n\r\n";
    write(request);
    char prompt[256];
    if (recv(fd_, prompt, sizeof prompt, 0) <= 0) std::fprintf(stderr, "no prompt\n");
    write("FUNCTION GLOBAL \"echo\" 10 \"answers at once\" \"top\" \"0x0\" 100 0\n"
          "BEGIN system.cpu\nSET user = 1\nEND\n");
    guid_ = guid;
  }
  ~Child() {
    finish();
    close(fd_);
  }
  void finish() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  const std::string& guid() const { return guid_; }
  void run() { thread_ = std::thread([this] { serve(); }); }
  double cpu() const { return cpu_.load(); }

 private:
  void write(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  void serve() {
    std::string in;
    std::vector<char> buf(65536);
    std::string out;
    while (!stop_) {
      const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      in.append(buf.data(), static_cast<size_t>(n));
      size_t start = 0;
      out.clear();
      for (size_t nl; (nl = in.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (!answer_ || in.compare(start, 9, "FUNCTION ") != 0) continue;
        const size_t t0 = start + 9;
        const size_t t1 = in.find(' ', t0);
        out += "FUNCTION_RESULT_BEGIN " + in.substr(t0, t1 - t0) + " 200 application/json 0\n";
        out += body_;
        out += "\nFUNCTION_RESULT_END\n";
      }
      in.erase(0, start);
      if (!out.empty()) write(out);
    }
    cpu_ = cpuSeconds(RUSAGE_THREAD);
  }

  int fd_ = -1;
  std::string guid_;
  std::string body_;
  bool answer_;
  std::atomic<bool> stop_{false};
  std::atomic<double> cpu_{0};
  std::thread thread_;
};

struct Server {
  std::shared_ptr<NodeRegistry> registry = std::make_shared<NodeRegistry>([] {});
  std::unique_ptr<StreamServer> server;
  Server() {
    std::vector<std::string> warnings, errors;
    auto conf = StreamConf::parse(std::string("[") + kKey + "]\n    enabled = yes\n", "bench",
                                  &warnings, &errors);
    BridgeOptions o;
    o.port = 0;
    o.ioThreads = 1;
    server = std::make_unique<StreamServer>(o, std::make_shared<const StreamConf>(*conf), registry);
    if (std::string e; !server->start(&e)) std::fprintf(stderr, "start: %s\n", e.c_str());
  }
  bool callable(const std::string& guid) {
    for (int i = 0; i < 500; ++i) {
      const auto f = registry->functionsOf(guid);
      if (f && f->table.find("echo")) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

FunctionCallRequest request() {
  FunctionCallRequest r;
  r.command = "echo";
  r.timeoutSeconds = 10;
  r.source = "method=NC,role=admin,permissions=0x7f";
  r.deadline = Clock::now() + std::chrono::seconds(60);
  return r;
}

int latency(int calls, int inFlight, size_t resultBytes) {
  Server s;
  Child child(s.server->port(), 1, resultBytes, true);
  if (!s.callable(child.guid())) return std::fprintf(stderr, "never callable\n"), 1;
  child.run();
  std::mutex m;
  std::condition_variable cv;
  std::vector<double> us;
  us.reserve(static_cast<size_t>(calls));
  int started = 0, done = 0, failed = 0;
  std::function<void()> launch = [&] {
    {
      std::lock_guard lock(m);
      if (started >= calls) return;
      ++started;
    }
    const auto t0 = Clock::now();
    s.server->callFunction(child.guid(), request(), [&, t0](FunctionCallResult r) {
      const double d = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      {
        std::lock_guard lock(m);
        us.push_back(d);
        ++done;
        if (r.outcome != FunctionOutcome::kAnswered || r.body.size() != resultBytes) ++failed;
      }
      cv.notify_all();
      launch();  // closed loop: each answer starts the next call
    });
  };
  const double cpu0 = cpuSeconds(RUSAGE_SELF);
  const auto t0 = Clock::now();
  for (int i = 0; i < inFlight; ++i) launch();
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return done >= calls; });
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpuAll = cpuSeconds(RUSAGE_SELF) - cpu0;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[static_cast<size_t>(q * static_cast<double>(us.size() - 1))]; };
  child.finish();
  const double childCpu = child.cpu();
  s.server->stop();
  std::printf("calls %d  in flight %d  result %zu B  failed %d\n", calls, inFlight, resultBytes,
              failed);
  std::printf("  %.0f calls/s  p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us\n",
              calls / secs, at(0.5), at(0.9), at(0.99), us.back());
  std::printf("  cpu: gateway + caller %.2f us/call, the child %.2f us/call\n",
              (cpuAll - childCpu) * 1e6 / calls, childCpu * 1e6 / calls);
  return failed == 0 ? 0 : 1;
}

// Calls parked on streams whose child never answers: the heap they hold, per call.
int hangMemory(int streams) {
  Server s;
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < streams; ++i) {
    children.push_back(std::make_unique<Child>(s.server->port(), i, 0, false));
  }
  for (auto& c : children) {
    if (!s.callable(c->guid())) return std::fprintf(stderr, "never callable\n"), 1;
    c->run();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  malloc_trim(0);
  const size_t before = mallinfo2().uordblks;
  std::atomic<int> done{0};
  const int perStream = 32;
  for (auto& c : children) {
    for (int i = 0; i < perStream; ++i) {
      s.server->callFunction(c->guid(), request(), [&](FunctionCallResult) { ++done; });
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const size_t after = mallinfo2().uordblks;
  const int parked = streams * perStream - done.load();
  std::printf("%d calls in flight on %d streams: %.0f bytes of heap per call\n", parked, streams,
              static_cast<double>(after - before) / parked);
  children.clear();
  s.server->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"function calls down a stream"};
  int calls = 20000, inFlight = 1, hang = 0;
  size_t resultBytes = 256;
  app.add_option("--calls", calls);
  app.add_option("--in-flight", inFlight)->check(CLI::Range(1, 32));
  app.add_option("--result-bytes", resultBytes);
  app.add_option("--hang-streams", hang);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  return hang > 0 ? hangMemory(hang) : latency(calls, inFlight, resultBytes);
}
