#include "bench/loadgen/capture.h"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace aclkd::bench {
namespace {

constexpr std::string_view kCapturedGuid = "machine_guid=7e5dc348-e657-11f1-8a35-02fc00000001";
constexpr std::string_view kCapturedHost = "hostname=nd-lab-child";

void replaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The BEGIN…END blocks of the body, each with its newline, in capture order.
std::vector<std::string_view> sampleBlocks(std::string_view body) {
  std::vector<std::string_view> blocks;
  size_t blockAt = std::string_view::npos;
  for (size_t at = 0; at < body.size();) {
    size_t end = body.find('\n', at);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(at, end - at);
    if (line.starts_with("BEGIN ")) {
      blockAt = at;
    } else if (blockAt != std::string_view::npos && line == "END") {
      blocks.push_back(body.substr(blockAt, end + 1 - blockAt));
      blockAt = std::string_view::npos;
    }
    at = end + 1;
  }
  return blocks;
}

}  // namespace

size_t countSamples(std::string_view text) {
  static constexpr std::array<std::string_view, 5> kKeywords = {"SET", "SET2", "RSET", "RDSTATE",
                                                                "RSSTATE"};
  size_t n = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    const std::string_view word = line.substr(0, line.find(' '));
    for (auto k : kKeywords) {
      if (word == k) {
        ++n;
        break;
      }
    }
    at = end + 1;
  }
  return n;
}

std::optional<Capture> Capture::load(const std::string& path, int writes, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read the capture " + path;
    return std::nullopt;
  }
  std::stringstream s;
  s << in.rdbuf();
  Capture c;
  c.text_ = s.str();
  const size_t head = c.text_.find("\r\n\r\n");
  if (head == std::string::npos || !c.text_.starts_with("STREAM ")) {
    *error = path + " is not a captured stream (no STREAM request ending in a blank line)";
    return std::nullopt;
  }
  c.bodyAt_ = head + 4;
  c.request_ = c.text_.substr(0, c.bodyAt_);
  if (c.request_.find(kCapturedGuid) == std::string::npos) {
    *error = path + ": the request has not the captured machine_guid to substitute";
    return std::nullopt;
  }
  c.bodySamples_ = countSamples(c.body());
  const auto blocks = sampleBlocks(c.body());
  if (blocks.empty() || writes < 1) {
    *error = blocks.empty() ? path + " has no BEGIN…END sample block" : "--writes must be ≥ 1";
    return std::nullopt;
  }
  // Slices as the Python cuts them: ceil(blocks / writes) blocks each (so maybe fewer slices).
  const size_t per = (blocks.size() + static_cast<size_t>(writes) - 1) / static_cast<size_t>(writes);
  std::string all;
  for (size_t i = 0; i < blocks.size(); i += per) {
    std::string slice;
    for (size_t j = i; j < blocks.size() && j < i + per; ++j) slice += blocks[j];
    c.sliceSamples_.push_back(countSamples(slice));
    all += slice;
    c.slices_.push_back(std::move(slice));
  }
  c.blockSamples_ = countSamples(all);
  const size_t copies = std::max<size_t>(1, 262144 / all.size());
  for (size_t i = 0; i < copies; ++i) c.loop_ += all;
  c.loopSamples_ = copies * c.blockSamples_;
  return c;
}

std::string Capture::guidFor(uint64_t runTag, size_t index) {
  char guid[40];
  std::snprintf(guid, sizeof guid, "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-8%03" PRIx32 "-%012zx",
                static_cast<uint32_t>(runTag >> 32), static_cast<uint32_t>(runTag >> 16) & 0xffff,
                static_cast<uint32_t>(runTag >> 4) & 0xfff, static_cast<uint32_t>(runTag) & 0xfff,
                index);
  return guid;
}

std::string Capture::requestFor(uint64_t runTag, size_t index) const {
  std::string r = request_;
  replaceAll(r, kCapturedGuid, "machine_guid=" + guidFor(runTag, index));
  replaceAll(r, kCapturedHost, "hostname=load-" + std::to_string(index));
  return r;
}

}  // namespace aclkd::bench
