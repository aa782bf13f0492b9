#include "query/cloud_path.h"

#include "common/text.h"
#include "common/uuid.h"

namespace aclkd::query {
namespace {

bool isScopeParam(std::string_view name) { return name == "scope_nodes" || name == "nodes"; }

// Length of the list separator at `i` in a parameter value: `|` or `,`, plain or percent-encoded
// (Netdata's v2 lists use `|`; a cloud may encode it); 0 when none.
size_t separatorAt(std::string_view v, size_t i) {
  if (v[i] == '|' || v[i] == ',') return 1;
  if (v[i] == '%' && i + 2 < v.size()) {
    const auto code = asciiLower(v.substr(i + 1, 2));
    if (code == "7c" || code == "2c") return 3;
  }
  return 0;
}

// Calls `token(offset, length)` for each list item of every scope parameter's value in the
// query string of `rest`; a leading `!` (a negative pattern) is not part of the item.
template <typename F>
void forEachScopeToken(std::string_view rest, F&& token) {
  const auto q = rest.find('?');
  if (q == std::string_view::npos) return;
  size_t pos = q + 1;
  while (pos <= rest.size()) {
    auto amp = rest.find('&', pos);
    if (amp == std::string_view::npos) amp = rest.size();
    const auto param = rest.substr(pos, amp - pos);
    const auto eq = param.find('=');
    if (eq != std::string_view::npos && isScopeParam(param.substr(0, eq))) {
      const size_t valueStart = pos + eq + 1;
      const auto value = rest.substr(valueStart, amp - valueStart);
      size_t start = 0;
      for (size_t i = 0; i <= value.size(); ++i) {
        const size_t sep = i < value.size() ? separatorAt(value, i) : 1;
        if (sep == 0) continue;
        size_t b = start;
        if (b < i && value[b] == '!') ++b;
        if (b < i) token(valueStart + b, i - b);
        i += sep - 1;
        start = i + 1;
      }
    }
    pos = amp + 1;
  }
}

}  // namespace

bool isApiPath(std::string_view rest) {
  const auto bare = rest.substr(0, rest.find('?'));
  return bare.substr(0, 5) == "/api/" && bare.find("/../") == std::string_view::npos &&
         (bare.size() < 3 || bare.substr(bare.size() - 3) != "/..");
}

CloudPathTarget routeCloudPath(std::string_view path) {
  CloudPathTarget r;
  r.rest = std::string(path);
  for (const std::string_view prefix : {"/node/", "/host/"}) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    const auto afterPrefix = path.substr(prefix.size());
    auto end = afterPrefix.find_first_of("/?");
    if (end == std::string_view::npos) end = afterPrefix.size();
    const auto selector = afterPrefix.substr(0, end);
    const auto rest = afterPrefix.substr(end);
    r.rest = (rest.empty() || rest[0] != '/') ? "/" + std::string(rest) : std::string(rest);
    if (prefix == "/node/") {
      // Netdata: "URL requests node_id but there is not enough chars following".
      r.kind = isUuid(selector) ? CloudPathTarget::Kind::kNode : CloudPathTarget::Kind::kBadNodeId;
      r.selector = asciiLower(selector);
    } else {
      r.kind = CloudPathTarget::Kind::kHost;
      r.selector = std::string(selector);
    }
    return r;
  }
  const bool v2v3 = path.substr(0, 8) == "/api/v2/" || path.substr(0, 8) == "/api/v3/";
  if (!v2v3) return r;
  forEachScopeToken(path, [&](size_t offset, size_t length) {
    const auto token = path.substr(offset, length);
    if (isUuid(token)) r.scopeIds.push_back(asciiLower(token));
  });
  if (!r.scopeIds.empty()) r.kind = CloudPathTarget::Kind::kScope;
  return r;
}

std::string rewriteScopeIds(std::string_view rest,
                            const std::map<std::string, std::string>& replace) {
  std::string out;
  size_t copied = 0;
  forEachScopeToken(rest, [&](size_t offset, size_t length) {
    const auto it = replace.find(asciiLower(rest.substr(offset, length)));
    if (it == replace.end()) return;
    out.append(rest.substr(copied, offset - copied));
    out += it->second;
    copied = offset + length;
  });
  out.append(rest.substr(copied));
  return out;
}

}  // namespace aclkd::query
