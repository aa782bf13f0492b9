#include "stream_bridge/handshake.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "common/untrusted_text.h"

namespace aclkd::stream_bridge {
namespace {

constexpr std::string_view kStreamMethod = "STREAM ";
constexpr std::string_view kHttpMarker = " HTTP/";
constexpr std::string_view kPromptV1 = "Hit me baby, push them over...";
constexpr std::string_view kPromptV2 = "Hit me baby, push them over and bring the host labels...";
constexpr std::string_view kPromptVersion = "Hit me baby, push them over with the version=";

// The bits that only say which prompt/numbering a side understands; every parent speaks the old
// protocols, so the bridge accepts them whatever `supported` lists.
constexpr uint64_t kLegacyMarkers = cap::kV1 | cap::kV2 | cap::kVN;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Netdata decodes the whole target before splitting it, so an encoded '&' or '=' does split; a
// '%' without two hex digits stays literal rather than failing the request.
std::string urlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hexValue(in[i + 1]) >= 0 &&
               hexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// strtol-like: optional sign, leading digits, anything after them ignored; garbage leaves the
// default, as the child's own values are never checked more strictly by a real parent.
template <typename T>
T parseNumber(std::string_view text, T fallback) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  T value{};
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec == std::errc::result_out_of_range) {
    return (first != last && *first == '-') ? std::numeric_limits<T>::min()
                                            : std::numeric_limits<T>::max();
  }
  if (ec != std::errc() || ptr == first) return fallback;
  return value;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

void fail(std::string* error, std::string text) {
  if (error != nullptr) *error = std::move(text);
}

}  // namespace

std::optional<size_t> handshakeEnd(std::string_view buffer) {
  const size_t at = buffer.find("\r\n\r\n");
  if (at == std::string_view::npos) return std::nullopt;
  return at + 4;
}

std::optional<StreamRequest> parseStreamRequest(std::string_view request, std::string* error) {
  if (request.substr(0, kStreamMethod.size()) != kStreamMethod) {
    fail(error, "not a STREAM request");
    return std::nullopt;
  }
  // Raw spaces are legal inside 1.37 values, so only the line end bounds the search.
  const size_t lineEnd = std::min(request.find('\n'), request.size());
  const std::string_view requestLine = request.substr(0, lineEnd);
  const size_t http = requestLine.find(kHttpMarker, kStreamMethod.size());
  if (http == std::string_view::npos) {
    fail(error, "no ' HTTP/' in the request line");
    return std::nullopt;
  }

  StreamRequest req;
  bool haveKey = false, haveHostname = false, haveRegistry = false, haveGuid = false;
  bool haveOs = false, haveTz = false, haveAbbrevTz = false, haveTags = false;

  const std::string target =
      urlDecode(requestLine.substr(kStreamMethod.size(), http - kStreamMethod.size()));
  std::string_view rest = target;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);

    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (name.empty() || value.empty()) continue;

    // Like Netdata, the first occurrence of a string parameter wins; a repeated one is ignored.
    auto takeOnce = [&](bool& seen, std::string& field) {
      if (!seen) field.assign(value);
      seen = true;
    };
    if (name == "key") {
      takeOnce(haveKey, req.apiKey);
    } else if (name == "hostname") {
      takeOnce(haveHostname, req.hostname);
    } else if (name == "registry_hostname") {
      takeOnce(haveRegistry, req.registryHostname);
    } else if (name == "machine_guid") {
      takeOnce(haveGuid, req.machineGuid);
    } else if (name == "update_every") {
      req.updateEvery = parseNumber<int>(value, req.updateEvery);
    } else if (name == "os") {
      takeOnce(haveOs, req.os);
    } else if (name == "timezone") {
      takeOnce(haveTz, req.timezone);
    } else if (name == "abbrev_timezone") {
      takeOnce(haveAbbrevTz, req.abbrevTimezone);
    } else if (name == "utc_offset") {
      req.utcOffset = parseNumber<int64_t>(value, req.utcOffset);
    } else if (name == "hops") {
      req.hops = parseNumber<int>(value, req.hops);
    } else if (name == "ml_capable") {
      req.mlCapable = parseNumber<int64_t>(value, 0) != 0;
    } else if (name == "ml_enabled") {
      req.mlEnabled = parseNumber<int64_t>(value, 0) != 0;
    } else if (name == "mc_version") {
      // Known to every parent and of no use to a metadata receiver.
    } else if (name == "tags") {
      takeOnce(haveTags, req.tags);
    } else if (name == "ver") {
      if (!req.ver) req.ver = parseNumber<uint64_t>(value, 0);
    } else if (name.substr(0, 8) == "NETDATA_") {
      std::string key(name);
      if (name.substr(0, 18) == "NETDATA_SYSTEM_OS_") {
        key = "NETDATA_HOST_OS_" + std::string(name.substr(18));
      }
      req.systemInfo.emplace(escapeUntrusted(key), escapeUntrusted(value));
    } else {
      req.unknownParameters.emplace_back(name);
    }
  }

  if (!haveKey) {
    fail(error, "missing parameter 'key'");
    return std::nullopt;
  }
  if (!haveHostname) {
    fail(error, "missing parameter 'hostname'");
    return std::nullopt;
  }
  if (!haveGuid) {
    fail(error, "missing parameter 'machine_guid'");
    return std::nullopt;
  }
  // The boundary for untrusted text: a host name names a node in logs, views and the cloud, so
  // one with control characters is refused; every other string is escaped here, once, so that
  // nothing later can log, store or republish a raw byte from the network.
  if (std::string e; !checkHostname(req.hostname, &e)) {
    fail(error, "parameter 'hostname': " + e);
    return std::nullopt;
  }
  if (!haveRegistry) req.registryHostname = req.hostname;
  if (std::string e; !checkHostname(req.registryHostname, &e)) {
    fail(error, "parameter 'registry_hostname': " + e);
    return std::nullopt;
  }
  for (std::string* field : {&req.apiKey, &req.machineGuid, &req.os, &req.timezone,
                             &req.abbrevTimezone, &req.tags}) {
    *field = escapeUntrusted(*field);
  }
  for (auto& name : req.unknownParameters) name = escapeUntrusted(name);

  // Headers: only User-Agent matters; a missing blank line is tolerated, the caller already
  // bounded the request with handshakeEnd().
  std::string_view headers =
      lineEnd < request.size() ? request.substr(lineEnd + 1) : std::string_view{};
  while (!headers.empty()) {
    const size_t nl = headers.find('\n');
    const std::string_view line = trim(headers.substr(0, nl));
    headers = nl == std::string_view::npos ? std::string_view{} : headers.substr(nl + 1);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!equalsIgnoreCase(trim(line.substr(0, colon)), "User-Agent")) continue;
    const std::string_view agent = trim(line.substr(colon + 1));
    const size_t slash = agent.find('/');
    req.program = escapeUntrusted(agent.substr(0, slash));
    if (slash != std::string_view::npos) req.version = escapeUntrusted(agent.substr(slash + 1));
    break;
  }
  return req;
}

uint64_t expandVersion(std::optional<uint64_t> ver, bool hasProtocolVersion) {
  // Without `ver`, NETDATA_PROTOCOL_VERSION means version 1 and its absence version 0: the same
  // oldest protocol either way.
  (void)hasProtocolVersion;
  if (!ver) return cap::kV1;
  switch (*ver) {
    case 0:
    case 1:
      return cap::kV1;
    case 2:
      return cap::kV2 | cap::kHLabels;
    case 3:
      return cap::kVN | cap::kHLabels | cap::kClaim;
    case 4:
      return cap::kVN | cap::kHLabels | cap::kClaim | cap::kCLabels;
    case 5:
      return cap::kVN | cap::kHLabels | cap::kClaim | cap::kCLabels | cap::kLz4;
    default:
      return *ver;
  }
}

uint64_t negotiate(uint64_t childCaps, uint64_t supported, bool compression) {
  // The markers are kept through the AND so that a numbered-version child (3/4/5) still gets a
  // numbered reply; they are stripped afterwards against what survived, so a bridge without
  // VCAPS answers a bitmask child with a numbered version instead of dropping to V1.
  uint64_t caps = childCaps & (supported | kLegacyMarkers);
  if (!compression) caps &= ~cap::kCompressions;
  if (caps & cap::kVCaps) {
    caps &= ~kLegacyMarkers;
  } else if (caps & cap::kVN) {
    caps &= ~(cap::kV1 | cap::kV2);
  } else if (caps & cap::kV2) {
    caps &= ~cap::kV1;
  }
  return caps;
}

std::string successPrompt(uint64_t negotiated) {
  if (negotiated & cap::kVCaps) {
    return std::string(kPromptVersion) + std::to_string(negotiated);
  }
  if (negotiated & cap::kVN) {
    const int number = (negotiated & cap::kLz4) ? 5 : (negotiated & cap::kCLabels) ? 4 : 3;
    return std::string(kPromptVersion) + std::to_string(number);
  }
  if (negotiated & cap::kV2) return std::string(kPromptV2);
  return std::string(kPromptV1);
}

}  // namespace aclkd::stream_bridge
