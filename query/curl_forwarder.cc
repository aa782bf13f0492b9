#include "query/curl_forwarder.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "common/text.h"
#include "query/reply_mapping.h"

namespace aclkd::query {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct Job {
  uint64_t id = 0;
  ForwardRequest request;
  ForwardClient::Completion done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  ForwardResponse response;
  bool tooLarge = false;
  std::array<char, CURL_ERROR_SIZE> errorBuffer{};

  ~Job() {
    if (easy) curl_easy_cleanup(easy);
    if (headers) curl_slist_free_all(headers);
  }
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* job = static_cast<Job*>(user);
  const size_t n = size * count;
  if (job->response.body.size() + n > job->request.maxResponseBytes) {
    job->tooLarge = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  job->response.body.append(data, n);
  return n;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* job = static_cast<Job*>(user);
  const size_t n = size * count;
  readAgentHeaderLine(std::string_view(data, n), &job->response);
  return n;
}

}  // namespace

struct CurlForwarder::Impl {
  explicit Impl(Options o) : options(o) {
    multi = curl_multi_init();
    thread = std::thread([this] { run(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    curl_multi_wakeup(multi);
    thread.join();
    curl_multi_cleanup(multi);
  }

  // ---- any thread -------------------------------------------------------------------------

  uint64_t submit(ForwardRequest request, Completion done) {
    auto job = std::make_unique<Job>();
    job->request = std::move(request);
    job->done = std::move(done);
    uint64_t id = 0;
    {
      std::lock_guard lock(mutex);
      id = job->id = ++nextId;
      incoming.push_back(std::move(job));
    }
    curl_multi_wakeup(multi);
    return id;
  }

  void cancel(uint64_t id) {
    {
      std::lock_guard lock(mutex);
      cancels.push_back(id);
    }
    curl_multi_wakeup(multi);
  }

  // ---- the forwarder's thread ---------------------------------------------------------------

  void run() {
    while (true) {
      std::deque<std::unique_ptr<Job>> fresh;
      std::vector<uint64_t> cancelled;
      bool stop = false;
      {
        std::lock_guard lock(mutex);
        fresh.swap(incoming);
        cancelled.swap(cancels);
        stop = stopping;
      }
      for (auto& job : fresh) accept(std::move(job));
      for (const auto id : cancelled) finish(id, ForwardOutcome::kCancelled, "cancelled");
      if (stop) break;
      expireWaiting();
      startWaiting();
      int running = 0;
      curl_multi_perform(multi, &running);
      collectDone();
      startWaiting();
      curl_multi_poll(multi, nullptr, 0, pollTimeoutMs(), nullptr);
    }
    std::vector<uint64_t> all;
    for (const auto& [id, job] : jobs) all.push_back(id);
    for (const auto id : all) finish(id, ForwardOutcome::kCancelled, "the gateway is stopping");
  }

  void accept(std::unique_ptr<Job> job) {
    const auto id = job->id;
    const auto key = job->request.agentKey;
    if (waitingTotal >= options.maxWaiting) {
      job->response.outcome = ForwardOutcome::kOverloaded;
      job->response.error = "too many queries waiting for agents (" +
                            std::to_string(options.maxWaiting) + ")";
      job->done(std::move(job->response));
      return;
    }
    jobs[id] = std::move(job);
    waiting[key].push_back(id);
    ++waitingTotal;
  }

  // Requests whose deadline passed before they got a slot.
  void expireWaiting() {
    const auto now = Clock::now();
    std::vector<uint64_t> expired;
    for (auto& [key, queue] : waiting) {
      for (const auto id : queue) {
        if (jobs.at(id)->request.deadline <= now) expired.push_back(id);
      }
    }
    for (const auto id : expired) {
      finish(id, ForwardOutcome::kTimeout, "timed out waiting for a free slot to the agent");
    }
  }

  void startWaiting() {
    for (auto it = waiting.begin(); it != waiting.end();) {
      auto& queue = it->second;
      while (!queue.empty() && active[it->first] < options.perAgentLimit) {
        const auto id = queue.front();
        queue.pop_front();
        --waitingTotal;
        startTransfer(*jobs.at(id));
      }
      it = queue.empty() ? waiting.erase(it) : std::next(it);
    }
  }

  void startTransfer(Job& job) {
    const auto& r = job.request;
    const auto remaining = duration_cast<milliseconds>(r.deadline - Clock::now()).count();
    if (remaining <= 0) {
      finish(job.id, ForwardOutcome::kTimeout, "timed out before the request was sent");
      return;
    }
    job.easy = curl_easy_init();
    CURL* e = job.easy;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (!r.cacheDns) curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");  // agents are reached directly
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     std::min(static_cast<long>(remaining), options.connectTimeoutMs));
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(r.maxResponseBytes));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &job);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &job);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job.errorBuffer.data());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &job);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!r.caFile.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.caFile.c_str());
    if (r.insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    for (const auto& h : r.headers) job.headers = curl_slist_append(job.headers, h.c_str());
    job.headers = curl_slist_append(job.headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, job.headers);
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r.body.c_str());
    }
    curl_multi_add_handle(multi, e);
    ++active[r.agentKey];
  }

  void collectDone() {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Job* job = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &job);
      const CURLcode code = m->data.result;
      if (code == CURLE_OK) {
        curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &job->response.status);
        finish(job->id, ForwardOutcome::kAnswered, "");
      } else if (job->tooLarge || code == CURLE_FILESIZE_EXCEEDED) {
        finish(job->id, ForwardOutcome::kTooLarge,
               "the answer is over " + std::to_string(job->request.maxResponseBytes) + " bytes");
      } else if (code == CURLE_OPERATION_TIMEDOUT && Clock::now() >= job->request.deadline -
                                                                          milliseconds(50)) {
        finish(job->id, ForwardOutcome::kTimeout, "the agent did not answer in time");
      } else {
        const std::string detail = job->errorBuffer[0] ? job->errorBuffer.data()
                                                       : curl_easy_strerror(code);
        finish(job->id, ForwardOutcome::kUnreachable, detail);
      }
    }
  }

  // Completes and forgets a job, wherever it is; unknown ids (already done) are ignored.
  void finish(uint64_t id, ForwardOutcome outcome, const std::string& error) {
    const auto it = jobs.find(id);
    if (it == jobs.end()) return;
    std::unique_ptr<Job> job = std::move(it->second);
    jobs.erase(it);
    if (job->easy) {
      curl_multi_remove_handle(multi, job->easy);
      if (--active[job->request.agentKey] == 0) active.erase(job->request.agentKey);
    } else {
      auto w = waiting.find(job->request.agentKey);
      if (w != waiting.end()) {
        auto& q = w->second;
        const auto pos = std::find(q.begin(), q.end(), id);
        if (pos != q.end()) {
          q.erase(pos);
          --waitingTotal;
        }
        if (q.empty()) waiting.erase(w);
      }
    }
    job->response.outcome = outcome;
    job->response.error = error;
    if (outcome != ForwardOutcome::kAnswered) {
      job->response.body.clear();
      job->response.headers.clear();
    }
    auto done = std::move(job->done);
    auto response = std::move(job->response);
    job.reset();
    done(std::move(response));
  }

  int pollTimeoutMs() const {
    long ms = 1000;
    curl_multi_timeout(multi, &ms);
    if (ms < 0 || ms > 1000) ms = 1000;
    const auto now = Clock::now();
    for (const auto& [key, queue] : waiting) {
      for (const auto id : queue) {
        const auto left = duration_cast<milliseconds>(jobs.at(id)->request.deadline - now).count();
        ms = std::min<long>(ms, std::max<long>(left, 0));
      }
    }
    return static_cast<int>(ms);
  }

  const Options options;
  CURLM* multi = nullptr;
  std::thread thread;

  std::mutex mutex;  // guards the three below
  bool stopping = false;
  std::deque<std::unique_ptr<Job>> incoming;
  std::vector<uint64_t> cancels;
  uint64_t nextId = 0;

  // The forwarder's thread only.
  std::map<uint64_t, std::unique_ptr<Job>> jobs;
  std::map<std::string, std::deque<uint64_t>> waiting;
  std::map<std::string, size_t> active;
  size_t waitingTotal = 0;
};

CurlForwarder::CurlForwarder(Options options) : impl_(std::make_unique<Impl>(options)) {}
CurlForwarder::~CurlForwarder() = default;

uint64_t CurlForwarder::submit(ForwardRequest request, Completion done) {
  return impl_->submit(std::move(request), std::move(done));
}

void CurlForwarder::cancel(uint64_t id) { impl_->cancel(id); }

}  // namespace aclkd::query
