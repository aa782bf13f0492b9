// bench/link_publish: QoS 1 messages per second over wss to a local broker, and the publish
// latency (PUBLISH → PUBACK) percentiles, through the same MqttSession the link uses.
//
//   link_publish --host localhost --port 18843 --ca var/certs/ca.crt [--count 20000]
//                [--size 512] [--window 64]
//
// `window` bounds the messages in flight, as the link's outbound limit does.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "aclk/mqtt_session.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  CLI::App app{"QoS 1 publish throughput and latency over MQTT 5 / wss"};
  std::string host = "localhost";
  int port = 18843;
  std::string ca;
  int count = 20000;
  int size = 512;
  int window = 64;
  app.add_option("--host", host);
  app.add_option("--port", port);
  app.add_option("--ca", ca, "CA file of the broker's certificate")->required();
  app.add_option("--count", count);
  app.add_option("--size", size, "payload bytes");
  app.add_option("--window", window, "messages in flight at most");
  CLI11_PARSE(app, argc, argv);

  std::mutex m;
  std::condition_variable cv;
  std::deque<aclkd::aclk::MqttEvent> events;
  aclkd::aclk::MqttSession session(1, [&](aclkd::aclk::MqttEvent&& e) {
    std::lock_guard<std::mutex> lock(m);
    events.push_back(std::move(e));
    cv.notify_one();
  });
  auto next = [&]() {
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return !events.empty(); });
    if (events.empty()) {
      std::fprintf(stderr, "no event for 30 s\n");
      std::exit(1);
    }
    auto e = std::move(events.front());
    events.pop_front();
    return e;
  };

  aclkd::aclk::MqttConnectParams p;
  p.wire.host = host;
  p.wire.port = port;
  p.clientId = "link-publish-bench";
  p.username = "bench";
  p.password = "bench";
  p.willTopic = "/bench/will";
  p.willPayload = "gone";
  p.wire.caFile = ca;
  std::string error;
  if (!session.connect(p, &error)) {
    std::fprintf(stderr, "connect: %s\n", error.c_str());
    return 1;
  }
  auto e = next();
  if (e.kind != aclkd::aclk::MqttEvent::Kind::kConnected) {
    std::fprintf(stderr, "connect failed: code %d\n", e.code);
    return 1;
  }

  const std::string payload(static_cast<size_t>(size), 'x');
  std::map<uint64_t, Clock::time_point> inflight;
  std::vector<double> latencyUs;
  latencyUs.reserve(static_cast<size_t>(count));
  uint64_t sent = 0;
  uint64_t failed = 0;
  const auto start = Clock::now();
  while (latencyUs.size() + failed < static_cast<size_t>(count)) {
    while (sent < static_cast<uint64_t>(count) && inflight.size() < static_cast<size_t>(window)) {
      ++sent;
      inflight[sent] = Clock::now();
      if (!session.publish(sent, "/bench/outbound/v1/ContextsUpdated", payload, &error)) {
        std::fprintf(stderr, "publish: %s\n", error.c_str());
        return 1;
      }
    }
    auto done = next();
    if (done.kind != aclkd::aclk::MqttEvent::Kind::kPublishDone) {
      std::fprintf(stderr, "unexpected event %d during the run\n", static_cast<int>(done.kind));
      return 1;
    }
    auto it = inflight.find(done.publishId);
    if (it == inflight.end()) continue;
    if (done.success) {
      latencyUs.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - it->second).count());
    } else {
      ++failed;
    }
    inflight.erase(it);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  session.disconnect(std::chrono::milliseconds(1000));
  std::sort(latencyUs.begin(), latencyUs.end());
  auto pct = [&](double q) {
    return latencyUs.empty() ? 0.0
                             : latencyUs[std::min(latencyUs.size() - 1,
                                                  static_cast<size_t>(q * latencyUs.size()))];
  };
  std::printf("messages=%d size=%dB window=%d acked=%zu failed=%llu seconds=%.3f\n", count, size,
              window, latencyUs.size(), static_cast<unsigned long long>(failed), secs);
  std::printf("throughput=%.0f msg/s (%.2f MB/s payload)\n", latencyUs.size() / secs,
              latencyUs.size() * static_cast<double>(size) / secs / 1e6);
  std::printf("latency_us p50=%.0f p90=%.0f p99=%.0f max=%.0f\n", pct(0.50), pct(0.90), pct(0.99),
              latencyUs.empty() ? 0.0 : latencyUs.back());
  return failed == 0 ? 0 : 1;
}
