// The alert relay's steady cost: AlertRelay + CurlForwarder following N nodes' alert logs at a
// poll interval, each node's agent a stub (a forked process, so its CPU is not counted) on its
// own 127.0.0.1 port serving a fixed 1.37 log: the whole captured log on first contact, then
// "nothing new" (`[]`), the common case of a quiet fleet.
//
//   alert_relay_bench --nodes 1000 --poll-every 10 --seconds 60
//
// Prints one JSON line: CPU % of one core and CPU µs per poll of this process (the relay's thread
// and the forwarder's), RSS before the relay and at the end (and per node), polls done.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "alerts/alert_relay.h"
#include "bench/process_stats.h"
#include "query/curl_forwarder.h"

using namespace aclkd;
using Clock = std::chrono::steady_clock;
using bench::cpuSeconds;
using bench::rssKiB;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void raiseFdLimit() {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
}

// The stub agents: one listening socket per port, HTTP/1.1 keep-alive, one poll() loop.
[[noreturn]] void serveStubs(std::vector<int> listeners, const std::string& alarms,
                             const std::string& log) {
  auto answer = [](const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  const std::string alarmsReply = answer(alarms), logReply = answer(log), emptyReply = answer("[]");
  std::vector<pollfd> fds;
  std::map<int, std::string> pending;  // connection -> bytes of a request not complete yet
  for (int l : listeners) fds.push_back({l, POLLIN, 0});
  const size_t nListeners = fds.size();
  while (true) {
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    std::vector<pollfd> next(fds.begin(), fds.begin() + static_cast<std::ptrdiff_t>(nListeners));
    for (size_t i = 0; i < fds.size(); ++i) {
      const int fd = fds[i].fd;
      if (i < nListeners) {
        if (fds[i].revents & POLLIN) {
          const int c = ::accept(fd, nullptr, nullptr);
          if (c >= 0) next.push_back({c, POLLIN, 0});
        }
        continue;
      }
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        next.push_back(fds[i]);
        continue;
      }
      char buf[8192];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fd);
        pending.erase(fd);
        continue;
      }
      std::string& req = pending[fd];
      req.append(buf, static_cast<size_t>(n));
      for (auto end = req.find("\r\n\r\n"); end != std::string::npos; end = req.find("\r\n\r\n")) {
        const std::string head = req.substr(0, end);
        req.erase(0, end + 4);
        const std::string& reply = head.find("/api/v1/alarms?all") != std::string::npos ? alarmsReply
                                   : head.find("alarm_log?after=0 ") != std::string::npos ? logReply
                                                                                           : emptyReply;
        for (size_t off = 0; off < reply.size();) {
          const ssize_t w = ::write(fd, reply.data() + off, reply.size() - off);
          if (w <= 0) break;
          off += static_cast<size_t>(w);
        }
      }
      next.push_back(fds[i]);
    }
    fds.swap(next);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The alert relay's steady CPU and memory for N nodes"};
  int nodes = 1000;
  int pollEvery = 10;
  int seconds = 60;
  int warmup = 0;
  app.add_option("--nodes", nodes, "nodes, each with its own stub agent (port)");
  app.add_option("--poll-every", pollEvery, "[cloud] alerts poll every, seconds");
  app.add_option("--seconds", seconds, "measured window after the warm-up");
  app.add_option("--warmup", warmup, "seconds before measuring (default: 2 poll intervals)");
  CLI11_PARSE(app, argc, argv);
  if (warmup == 0) warmup = 2 * pollEvery;
  raiseFdLimit();
  signal(SIGPIPE, SIG_IGN);
  spdlog::set_level(spdlog::level::warn);  // no "relayed" line per node

  const std::string dir = std::string(ACLKD_FIXTURES_DIR) + "/alerts/";
  const std::string alarms = readFile(dir + "netdata-1.37-alarms.json");
  const std::string log = readFile(dir + "netdata-1.37-alarm_log.json");
  std::vector<int> listeners;
  std::vector<int> ports;
  for (int i = 0; i < nodes; ++i) {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(s, 64) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      std::perror("stub agent socket");
      return 1;
    }
    listeners.push_back(s);
    ports.push_back(ntohs(a.sin_port));
  }
  const pid_t stub = ::fork();  // before any thread exists
  if (stub == 0) serveStubs(listeners, alarms, log);
  for (int s : listeners) ::close(s);

  std::vector<query::NodeFacts> facts;
  for (int i = 0; i < nodes; ++i) {
    query::NodeFacts f;
    f.machineGuid = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
    f.hostname = "node-" + std::to_string(i);
    f.nodeId = "10000000-0000-4000-8000-" + std::to_string(100000000000 + i);
    f.live = true;
    f.guidQueryUrl = "http://127.0.0.1:" + std::to_string(ports[static_cast<size_t>(i)]);
    facts.push_back(std::move(f));
  }
  const long rssBefore = rssKiB();
  const double cpuBefore = cpuSeconds();
  auto forwarder = std::make_shared<query::CurlForwarder>(query::CurlForwarder::Options{});
  alerts::RelayOptions ro;
  ro.pollEvery = std::chrono::seconds(pollEvery);
  alerts::AlertRelay relay(ro, [&facts] { return facts; }, forwarder, nullptr, nullptr);
  relay.start();
  std::this_thread::sleep_for(std::chrono::seconds(warmup));
  const auto& st = relay.stats();
  auto polls = [&] {
    uint64_t n = 0;
    for (const auto& p : st.polls) n += p.load();
    return n;
  };
  const uint64_t pollsStart = polls();
  const double cpuStart = cpuSeconds();
  const double warmupCpu = cpuStart - cpuBefore;
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double cpu = cpuSeconds() - cpuStart;
  const uint64_t done = polls() - pollsStart;
  const long rssEnd = rssKiB();
  const uint64_t relayed = static_cast<uint64_t>(st.nodesRelayed.load());
  const uint64_t ok = st.polls[static_cast<size_t>(alerts::PollOutcome::kOk)].load();
  const uint64_t read = st.transitionsRead.load();
  relay.stop();
  ::kill(stub, SIGKILL);
  ::waitpid(stub, nullptr, 0);
  std::printf(
      "{\"nodes\": %d, \"poll_every_s\": %d, \"seconds\": %d, \"nodes_relayed\": %llu, "
      "\"polls\": %llu, \"polls_per_s\": %.1f, \"polls_ok_total\": %llu, "
      "\"transitions_read\": %llu, \"cpu_percent\": %.2f, \"cpu_us_per_poll\": %.1f, "
      "\"warmup_cpu_s\": %.3f, \"rss_before_mib\": %.1f, \"rss_end_mib\": %.1f, "
      "\"rss_per_node_kib\": %.2f}\n",
      nodes, pollEvery, seconds, static_cast<unsigned long long>(relayed),
      static_cast<unsigned long long>(done), static_cast<double>(done) / seconds,
      static_cast<unsigned long long>(ok), static_cast<unsigned long long>(read),
      100.0 * cpu / seconds, done ? cpu * 1e6 / static_cast<double>(done) : 0.0, warmupCpu,
      static_cast<double>(rssBefore) / 1024, static_cast<double>(rssEnd) / 1024,
      static_cast<double>(rssEnd - rssBefore) / nodes);
  return 0;
}
