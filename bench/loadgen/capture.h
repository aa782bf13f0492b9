#pragma once

// The replayed child: the captured Netdata 1.37 stream (request, definitions, sample blocks),
// held once for every connection of the generator. A connection keeps only offsets into it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aclkd::bench {

// Lines that the gateway counts as samples (aclkd_samples_dropped_total), as bench/stream_load.py
// counts them: SET, SET2, RSET, RDSTATE, RSSTATE.
size_t countSamples(std::string_view text);

class Capture {
 public:
  // Reads the capture at `path` and cuts it: the request (up to the blank line), the body, the
  // BEGIN…END blocks cut into `writes` slices (the pace's writes per second), and the blocks
  // repeated up to ~256 KiB (one send of the max rate).
  static std::optional<Capture> load(const std::string& path, int writes, std::string* error);

  // The request of child `index` of a run: every `machine_guid=` and `hostname=` of the captured
  // request replaced, as bench/stream_load.py does (so `registry_hostname` too).
  std::string requestFor(uint64_t runTag, size_t index) const;
  static std::string guidFor(uint64_t runTag, size_t index);

  std::string_view body() const { return std::string_view(text_).substr(bodyAt_); }
  size_t bodySamples() const { return bodySamples_; }
  const std::vector<std::string>& slices() const { return slices_; }
  const std::vector<size_t>& sliceSamples() const { return sliceSamples_; }
  size_t blockSamples() const { return blockSamples_; }
  std::string_view loop() const { return loop_; }
  size_t loopSamples() const { return loopSamples_; }

 private:
  std::string text_;
  size_t bodyAt_ = 0;
  std::string request_;
  size_t bodySamples_ = 0;
  size_t blockSamples_ = 0;
  std::vector<std::string> slices_;
  std::vector<size_t> sliceSamples_;
  std::string loop_;
  size_t loopSamples_ = 0;
};

}  // namespace aclkd::bench
