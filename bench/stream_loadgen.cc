// The stream load generator: replays the captured Netdata 1.37 child
// (tests/fixtures/netdata-1.37-child-stream.txt, or --capture) as N children from one process,
// a few threads, many non-blocking connections per thread (bench/loadgen/fleet_worker.h).
//
//   stream_loadgen --port P --children 10000 --mode pace --seconds 30 --threads 2
//   stream_loadgen --port P --children 10000 --seconds 70 --storm-rounds 3 --storm-every 20
//
// Phases: every child connects, sends the captured request under its own machine GUID and
// host name (`load-<i>`), waits for the reply, sends the capture's body (definitions and first
// samples); then the steady phase: `pace` sends the capture's 114 sample blocks once a second
// in `--writes` slices (child i writes slice (k + i) % w at tick k), `max` sends them in a loop
// as fast as the sockets take them; at the end every child stops at a block boundary.
// `--storm-rounds R`: during the steady phase, `--storm-fraction` of the children reset their
// connections and reconnect at once, R times; each round's handshakes are reported.
//
// Output: JSON lines on stdout. With `--driven` (bench/stream_load.py), a line
// {"event":"defined",...} once every child has sent its definitions, then the steady phase
// starts on a line "go" on stdin, then {"event":"report",...}; the sockets stay open until
// stdin closes (the gateway counts the last samples). Without it: the report line alone.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen/capture.h"
#include "bench/loadgen/fleet_worker.h"
#include "bench/process_stats.h"

using namespace aclkd::bench;
using Json = nlohmann::ordered_json;

namespace {

double percentile(std::vector<float> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t at = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[at];
}

double round3(double v) { return static_cast<double>(static_cast<int64_t>(v * 1000 + 0.5)) / 1000; }

Json latencyJson(const std::vector<float>& ms) {
  return {{"n", ms.size()},
          {"p50", round3(percentile(ms, 0.5))},
          {"p99", round3(percentile(ms, 0.99))},
          {"max", round3(ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()))}};
}

Json roundJson(const RoundStats& r, int64_t startNs) {
  Json refused = Json::object();
  for (const auto& [text, n] : r.refused) refused[text] = n;
  auto after = [&](int64_t ns) { return ns ? round3(static_cast<double>(ns - startNs) / 1e9) : -1; };
  return {{"dropped", r.dropped},        {"attempts", r.attempts},
          {"accepted", r.accepted},      {"resumed", r.resumed},
          {"refused", refused},          {"timed_out", r.timedOut},
          {"closed_no_reply", r.closedNoReply}, {"connect_failed", r.connectFailed},
          {"unaccepted_at_round_end", r.unaccepted},
          {"reply_ms", latencyJson(r.replyMs)},
          {"connect_ms", latencyJson(r.connectMs)},  // of reply_ms: until the connection was made
          {"all_accepted_after_s", after(r.lastAcceptNs)},
          {"all_resumed_after_s", after(r.lastResumeNs)}};
}

void raiseFdLimit(size_t children) {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < children + 64) {
    std::fprintf(stderr, "stream_loadgen: RLIMIT_NOFILE hard limit %llu is too low for %zu children\n",
                 static_cast<unsigned long long>(r.rlim_cur), children);
    std::exit(2);
  }
}

// False when `seconds` passed first.
bool waitUntil(const std::vector<std::unique_ptr<FleetWorker>>& workers,
               bool (FleetWorker::*done)() const, double seconds) {
  const int64_t deadline = monotonicNs() + static_cast<int64_t>(seconds * 1e9);
  while (!std::all_of(workers.begin(), workers.end(), [&](const auto& w) { return ((*w).*done)(); })) {
    if (monotonicNs() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Replays the captured Netdata 1.37 child as N children (epoll, a few threads)"};
  LoadOptions o;
  std::string capturePath = ACLKD_FIXTURES_DIR "/netdata-1.37-child-stream.txt";
  std::string mode = "pace";
  int writes = 10;
  bool driven = false;
  double connectTimeout = 600;
  app.add_option("--capture", capturePath, "the captured 1.37 stream");
  app.add_option("--host", o.host, "the parent's IPv4 address");
  app.add_option("--port", o.port, "the parent's stream port")->required();
  app.add_option("--children", o.children, "children (connections)");
  app.add_option("--threads", o.threads, "generator threads")->check(CLI::Range(1, 64));
  app.add_option("--mode", mode, "pace or max")->check(CLI::IsMember({"pace", "max"}));
  app.add_option("--seconds", o.seconds, "steady phase");
  app.add_option("--writes", writes, "pace: writes per child per second")->check(CLI::Range(1, 114));
  app.add_option("--slots", o.slots, "pace: each tick cut in slots, child i writing in slot i % slots")
      ->check(CLI::Range(1, 100));
  app.add_option("--connect-window", o.connectWindow, "handshakes in flight while first connecting");
  app.add_option("--connect-timeout", connectTimeout, "seconds for every child to be defined");
  app.add_option("--reply-timeout", o.replyTimeout, "seconds a child waits for the handshake reply");
  app.add_option("--reconnect-delay", o.reconnectDelay, "seconds before a child retries");
  app.add_option("--storm-rounds", o.stormRounds, "reconnect storms during the steady phase");
  app.add_option("--storm-first", o.stormFirst, "seconds into the steady phase of the first storm");
  app.add_option("--storm-every", o.stormEvery, "seconds between storms");
  app.add_option("--storm-fraction", o.stormFraction, "fraction of the children that reconnect")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--send-buffer", o.sendBuffer,
                 "SO_SNDBUF of each child's socket in bytes (0: the kernel's; see LoadOptions)")
      ->check(CLI::Range(0, 1 << 26));
  app.add_flag("--driven", driven, "wait for \"go\" on stdin after the definitions (see the header)");
  CLI11_PARSE(app, argc, argv);
  o.mode = mode == "max" ? LoadMode::kMax : LoadMode::kPace;
  o.threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(o.threads), std::max<size_t>(1, o.children)));
  o.runTag = std::random_device{}() * 0x100000001ull ^ static_cast<uint64_t>(monotonicNs());

  std::string error;
  const auto capture = Capture::load(capturePath, writes, &error);
  if (!capture) {
    std::fprintf(stderr, "stream_loadgen: %s\n", error.c_str());
    return 2;
  }
  raiseFdLimit(o.children);

  FleetControl control;
  std::vector<std::unique_ptr<FleetWorker>> workers;
  std::vector<std::thread> threads;
  const int64_t t0 = monotonicNs();
  const double cpu0 = cpuSeconds();
  const size_t share = (o.children + static_cast<size_t>(o.threads) - 1) / static_cast<size_t>(o.threads);
  for (size_t first = 0; first < o.children; first += share) {
    workers.push_back(std::make_unique<FleetWorker>(*capture, o, control, first,
                                                    std::min(share, o.children - first)));
  }
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
  for (auto& w : workers) {
    if (!w->error().empty()) {
      std::fprintf(stderr, "stream_loadgen: %s\n", w->error().c_str());
      return 1;
    }
  }
  if (!waitUntil(workers, &FleetWorker::defined, connectTimeout)) {
    // The workers' stats are theirs while they run: the message says what is known for sure.
    std::fprintf(stderr, "stream_loadgen: not every child connected and sent its definitions to "
                 "%s:%u within %.0f s (see --connect-timeout)\n", o.host.c_str(), o.port,
                 connectTimeout);
    std::_Exit(1);
  }
  const int64_t definedNs = monotonicNs();
  const double cpuDefined = cpuSeconds();
  rusage ru0{};
  getrusage(RUSAGE_SELF, &ru0);
  RoundStats connect;
  for (const auto& w : workers) connect.merge(w->connectStats());
  Json defined = {{"event", "defined"},
                  {"children", o.children},
                  {"seconds", round3(static_cast<double>(definedNs - t0) / 1e9)},
                  {"cpu_s", round3(cpuDefined - cpu0)},
                  {"handshakes", roundJson(connect, t0)}};
  std::cout << defined.dump() << std::endl;

  if (driven) {
    std::string line;
    while (std::getline(std::cin, line) && line != "go") {
    }
  }
  // The workers look at the control every 20 ms while idle: the first tick is on time.
  const int64_t startNs = monotonicNs() + 50'000'000;
  control.steadyStartNs.store(startNs);
  waitUntil(workers, &FleetWorker::stopped, 1e9);
  const int64_t stopNs = monotonicNs();
  rusage ru1{};
  getrusage(RUSAGE_SELF, &ru1);
  auto secondsOf = [](const timeval& a, const timeval& b) {
    return static_cast<double>(b.tv_sec - a.tv_sec) + static_cast<double>(b.tv_usec - a.tv_usec) / 1e6;
  };
  const double user = secondsOf(ru0.ru_utime, ru1.ru_utime);
  const double sys = secondsOf(ru0.ru_stime, ru1.ru_stime);
  const double window = static_cast<double>(stopNs - startNs) / 1e9;

  uint64_t sent = 0, steady = 0, writesSent = 0, lost = 0, ticks = 0;
  std::vector<float> tickStart, tickDone;
  std::vector<RoundStats> storm(static_cast<size_t>(std::max(0, o.stormRounds)));
  for (const auto& w : workers) {
    const WorkerStats& s = w->stats();
    sent += s.samplesSent;
    steady += s.steadySamples;
    writesSent += s.writes;
    lost += s.lost;
    ticks = std::max(ticks, s.ticks);
    tickStart.insert(tickStart.end(), s.tickStartMs.begin(), s.tickStartMs.end());
    tickDone.insert(tickDone.end(), s.tickDoneMs.begin(), s.tickDoneMs.end());
    for (size_t r = 0; r < storm.size(); ++r) storm[r].merge(s.storm[r]);
  }
  Json report = {{"event", "report"},
                 {"mode", mode},
                 {"children", o.children},
                 {"threads", o.threads},
                 {"seconds", round3(window)},
                 {"samples_sent", sent},
                 {"steady_samples", steady},
                 {"samples_per_s", static_cast<uint64_t>(static_cast<double>(steady) / window)},
                 {"writes", writesSent},
                 {"ticks", ticks},
                 {"streams_lost", lost}};
  if (o.mode == LoadMode::kPace) {
    // Per tick of a thread, against its schedule: when its first write started (the generator
    // keeps pace while this stays well under the tick) and when its last write was done.
    report["tick_start_late_ms"] = latencyJson(tickStart);
    report["tick_done_late_ms"] = latencyJson(tickDone);
  }
  report["cpu_user_s"] = round3(user);
  report["cpu_sys_s"] = round3(sys);
  report["cpu_pct"] = round3(100 * (user + sys) / window);
  report["connect_cpu_s"] = round3(cpuDefined - cpu0);
  report["rss_kib"] = rssKiB();
  if (!storm.empty()) {
    Json rounds = Json::array();
    for (size_t r = 0; r < storm.size(); ++r) {
      const double at = o.stormFirst + static_cast<double>(r) * o.stormEvery;
      if (at >= o.seconds) break;
      rounds.push_back(roundJson(storm[r], startNs + static_cast<int64_t>(at * 1e9)));
      rounds.back()["at_s"] = at;
    }
    report["storm"] = rounds;
  }
  std::cout << report.dump() << std::endl;

  if (driven) {
    std::string line;
    while (std::getline(std::cin, line)) {
    }
  }
  control.release.store(true);
  for (auto& t : threads) t.join();
  return 0;
}
