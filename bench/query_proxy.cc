// The query proxy's hot path: QueryProxy + CurlForwarder forwarding cloud `cmd` requests to a
// local agent, against plain libcurl multi hitting the same agent at the same concurrency. The
// difference is what the proxy adds (routing, header filtering, reply mapping, its thread hop).
//
//   query_proxy --url http://127.0.0.1:19999 --path '/api/v1/info' --count 4000 --concurrency 200
//   query_proxy --hang-memory 200     # RSS per in-flight request against a server that never answers
//
// Closed loop: `concurrency` requests in flight, each completion starts the next.
#include <curl/curl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <vector>

#include "bench/process_stats.h"
#include "query/curl_forwarder.h"
#include "query/query_proxy.h"
#include "unit/loopback_listener.h"

using namespace aclkd;
using Clock = std::chrono::steady_clock;
using bench::cpuSeconds;

namespace {

struct Result {
  std::vector<double> latencyMs;
  double seconds = 0;
  double cpu = 0;
};

void report(const char* name, Result r) {
  std::sort(r.latencyMs.begin(), r.latencyMs.end());
  const auto at = [&](double q) {
    return r.latencyMs[static_cast<size_t>(q * static_cast<double>(r.latencyMs.size() - 1))];
  };
  std::printf("%-7s %6zu requests  %8.0f req/s  p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  "
              "cpu %5.1f us/request\n",
              name, r.latencyMs.size(), static_cast<double>(r.latencyMs.size()) / r.seconds,
              at(0.5), at(0.9), at(0.99), r.cpu * 1e6 / static_cast<double>(r.latencyMs.size()));
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

// Plain libcurl multi: the baseline.
Result direct(const std::string& url, int count, int concurrency) {
  Result r;
  CURLM* multi = curl_multi_init();
  std::map<CURL*, Clock::time_point> started;
  int launched = 0;
  auto launch = [&] {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    started[e] = Clock::now();
    curl_multi_add_handle(multi, e);
    ++launched;
  };
  const double cpu0 = cpuSeconds();
  const auto t0 = Clock::now();
  for (int i = 0; i < concurrency && launched < count; ++i) launch();
  while (!started.empty()) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      r.latencyMs.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - started[m->easy_handle])
              .count());
      started.erase(m->easy_handle);
      curl_multi_remove_handle(multi, m->easy_handle);
      curl_easy_cleanup(m->easy_handle);
      if (launched < count) launch();
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cpu = cpuSeconds() - cpu0;
  curl_multi_cleanup(multi);
  return r;
}

std::vector<query::NodeFacts> oneChild(const std::string& agentUrl) {
  query::NodeFacts n;
  n.machineGuid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  n.hostname = "bench-child";
  n.nodeId = "11111111-2222-4333-8444-555555555555";
  n.live = true;
  n.keyQueryUrl = agentUrl;
  return {n};
}

aclk::CloudHttpRequest request(int i, const std::string& path) {
  aclk::CloudHttpRequest req;
  req.msgId = "m" + std::to_string(i);
  req.method = "GET";
  req.path = "/node/11111111-2222-4333-8444-555555555555" + path;
  req.timeoutMs = 30000;
  req.rawRequest = "GET " + req.path + " HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n";
  return req;
}

Result proxied(const std::string& url, const std::string& path, int count, int concurrency) {
  query::CurlForwarder::Options fo;
  fo.perAgentLimit = static_cast<size_t>(concurrency);
  query::QueryProxy proxy({}, {}, [&] { return oneChild(url); },
                          std::make_shared<query::CurlForwarder>(fo));
  Result r;
  std::mutex m;
  std::condition_variable cv;
  int launched = 0;
  int done = 0;
  std::function<void()> launch = [&] {
    const int i = launched++;
    const auto t = Clock::now();
    proxy.start(request(i, path), [&, t](aclk::CmdResult res) {
      std::lock_guard lock(m);
      if (res.httpCode != 200) std::fprintf(stderr, "http %d\n", res.httpCode);
      r.latencyMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      ++done;
      if (launched < count) launch();
      cv.notify_one();
    });
  };
  const double cpu0 = cpuSeconds();
  const auto t0 = Clock::now();
  {
    std::unique_lock lock(m);
    for (int i = 0; i < concurrency && launched < count; ++i) launch();
    cv.wait(lock, [&] { return done == count; });
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cpu = cpuSeconds() - cpu0;
  return r;
}

long rssKiB() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f && std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  if (f) std::fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// A listening socket that never accepts: connections complete in the backlog, requests hang.
void hangMemory(int inflight) {
  int port = 0;
  const int s = test::listenLoopback(&port, 4096);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  query::CurlForwarder::Options fo;
  fo.perAgentLimit = static_cast<size_t>(inflight);
  auto proxy = std::make_unique<query::QueryProxy>(
      query::ProxyOptions{}, query::QueryProxy::LocalApi{}, [&] { return oneChild(url); },
      std::make_shared<query::CurlForwarder>(fo));
  // Warm up (thread, curl's caches), then measure the growth for `inflight` more.
  std::atomic<int> finished{0};
  proxy->start(request(0, "/api/v1/info"), [&](aclk::CmdResult) { ++finished; });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  malloc_trim(0);
  const long before = rssKiB();
  const size_t heapBefore = mallinfo2().uordblks;
  for (int i = 1; i <= inflight; ++i) {
    proxy->start(request(i, "/api/v1/info"), [&](aclk::CmdResult) { ++finished; });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const long after = rssKiB();
  const size_t heapAfter = mallinfo2().uordblks;
  std::printf("hang: %d in flight: RSS +%ld KiB (%.1f KiB each), heap +%zu KiB (%.1f KiB each); "
              "finished early: %d\n",
              inflight, after - before, static_cast<double>(after - before) / inflight,
              (heapAfter - heapBefore) / 1024,
              static_cast<double>(heapAfter - heapBefore) / 1024.0 / inflight, finished.load());
  proxy.reset();  // completes them all as cancelled
  close(s);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"query proxy benchmark"};
  std::string url = "http://127.0.0.1:19999";
  std::string path = "/api/v1/info";
  int count = 4000;
  int concurrency = 200;
  int hang = 0;
  app.add_option("--url", url, "agent base URL");
  app.add_option("--path", path, "API path asked");
  app.add_option("--count", count, "requests per mode");
  app.add_option("--concurrency", concurrency, "requests in flight");
  app.add_option("--hang-memory", hang, "only measure memory with this many hanging requests");
  CLI11_PARSE(app, argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (hang > 0) {
    hangMemory(hang);
    return 0;
  }
  report("direct", direct(url + path, count, concurrency));
  report("proxied", proxied(url, path, count, concurrency));
  report("direct", direct(url + path, count, concurrency));
  report("proxied", proxied(url, path, count, concurrency));
  return 0;
}
