// libFuzzer target: a node's contexts as the state store keeps them (store/context_set.h), read
// back from the store's file at start: the file is local but may be damaged or foreign. The first
// byte picks what the rest is:
//   even: a stored value as it is (a version byte, then a zstd frame), as a damaged file has it;
//   odd:  the body inside the frame (the count and the fields), compressed here into a valid
//         frame, so that the field reader sees every cut and every length a mutation makes.
// Besides "never crash, never read past the input": a value that decodes encodes again to a value
// that decodes to the same contexts.

#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "store/context_set.h"

using aclkd::ContextRecord;
using namespace aclkd::store;

namespace {

bool same(const ContextRecord& a, const ContextRecord& b) {
  return a.id == b.id && a.version == b.version && a.firstEntry == b.firstEntry &&
         a.lastEntry == b.lastEntry && a.deleted == b.deleted && a.title == b.title &&
         a.priority == b.priority && a.chartType == b.chartType && a.units == b.units &&
         a.family == b.family;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string value;
  if ((data[0] & 1) == 0) {
    value.assign(rest);
  } else {
    value.assign(1, '\1');
    std::string frame(ZSTD_compressBound(rest.size()), '\0');
    const size_t n = ZSTD_compress(frame.data(), frame.size(), rest.data(), rest.size(), 1);
    if (ZSTD_isError(n)) std::abort();
    value.append(frame.data(), n);
  }
  std::vector<ContextRecord> contexts;
  std::string error;
  if (!decodeContextSet(value, &contexts, &error)) {
    if (error.empty() || !contexts.empty()) std::abort();  // a refusal says why, keeps nothing
    return 0;
  }
  std::vector<ContextRecord> again;
  if (!decodeContextSet(encodeContextSet(contexts), &again, &error)) std::abort();
  if (again.size() != contexts.size()) std::abort();
  for (size_t i = 0; i < again.size(); ++i) {
    if (!same(again[i], contexts[i])) std::abort();
  }
  return 0;
}
