#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aclkd::stream_bridge {

// Capability bits of docs/protocol/streaming.md §4.2 (bit number = power of two).
namespace cap {
inline constexpr uint64_t kV1 = 1u << 3;
inline constexpr uint64_t kV2 = 1u << 4;
inline constexpr uint64_t kVN = 1u << 5;
inline constexpr uint64_t kVCaps = 1u << 6;
inline constexpr uint64_t kHLabels = 1u << 7;
inline constexpr uint64_t kClaim = 1u << 8;
inline constexpr uint64_t kCLabels = 1u << 9;
inline constexpr uint64_t kLz4 = 1u << 10;
inline constexpr uint64_t kFunctions = 1u << 11;
inline constexpr uint64_t kReplication = 1u << 12;
inline constexpr uint64_t kBinary = 1u << 13;
inline constexpr uint64_t kInterpolated = 1u << 14;
inline constexpr uint64_t kIeee754 = 1u << 15;
inline constexpr uint64_t kMl = 1u << 16;
inline constexpr uint64_t kSlots = 1u << 18;
inline constexpr uint64_t kZstd = 1u << 19;
inline constexpr uint64_t kGzip = 1u << 20;
inline constexpr uint64_t kBrotli = 1u << 21;
inline constexpr uint64_t kCompressions = kLz4 | kZstd | kGzip | kBrotli;
inline constexpr uint64_t kNodeId = 1u << 24;  // the parent may send NODE_ID
inline constexpr uint64_t kPaths = 1u << 25;   // JSON STREAM_PATH blocks both ways
inline constexpr uint64_t kProgress = 1u << 22;
inline constexpr uint64_t kDyncfg = 1u << 23;
inline constexpr uint64_t kMlModels = 1u << 26;
inline constexpr uint64_t kFunctionDel = 1u << 28;  // FUNCTION_DEL (v2.11)

// What the bridge implements (docs/protocol/streaming.md §4.3): labels, claim ids, chart labels,
// replication (answered empty), BINARY (lines may span blocks: the parser reassembles them) and
// every compression (one is kept, by the configured order). Functions both ways: FUNCTIONS (the
// child declares them, the cloud's calls go down the stream), PROGRESS (the child reports on a
// long call), DYNCFG (it declares its `config` function) and FUNCTION_DEL. Not
// INTERPOLATED/IEEE754/SLOTS: a new child then falls back to BEGIN/SET/END, which the parser
// knows. As a v2 parent: NODEID (the cloud's node id goes down to the child) and PATHS (the
// child's stream path is kept and sent back with the gateway's hop). Not ML_MODELS: the gateway
// keeps no models.
inline constexpr uint64_t kBridgeSupported = kV1 | kV2 | kVN | kVCaps | kHLabels | kClaim |
                                            kCLabels | kFunctions | kReplication | kBinary |
                                            kCompressions | kNodeId | kPaths | kProgress |
                                            kDyncfg | kFunctionDel;
}  // namespace cap

// The child's `STREAM …` request (docs/protocol/streaming.md §2), decoded as a real parent does:
// the target runs from after "STREAM " to the first " HTTP/", is URL-decoded as a whole (`+`
// becomes a space), split on `&`, then each item at its first `=`; items with an empty name or
// value are skipped.
struct StreamRequest {
  std::string apiKey;            // key
  std::string hostname;          // hostname
  std::string registryHostname;  // registry_hostname, else hostname
  std::string machineGuid;       // machine_guid
  int updateEvery = 1;
  std::string os;
  std::string timezone;
  std::string abbrevTimezone;
  int64_t utcOffset = 0;
  int hops = 1;
  bool mlCapable = false;
  bool mlEnabled = false;
  std::string tags;
  std::optional<uint64_t> ver;  // absent: version from NETDATA_PROTOCOL_VERSION (1) or 0
  // The system-info parameters (NETDATA_*), with NETDATA_SYSTEM_OS_* renamed NETDATA_HOST_OS_*
  // as Netdata stores them.
  std::map<std::string, std::string> systemInfo;
  std::string program;  // User-Agent before the first '/', e.g. "netdata"
  std::string version;  // User-Agent after it, e.g. "v1.37.1"
  std::vector<std::string> unknownParameters;  // names, for a log line
};

// Where a request ends: the index just past the "\r\n\r\n" that ends the headers, or nullopt
// while more bytes are needed. The bridge waits for at most kMaxHandshakeBytes.
inline constexpr size_t kMaxHandshakeBytes = 16384;
std::optional<size_t> handshakeEnd(std::string_view buffer);

// Parses a complete request (through its blank line). nullopt with `error` naming the problem
// ("not a STREAM request", "no ' HTTP/' in the request line", "missing parameter 'key'", …).
// Mandatory: key, hostname, machine_guid. UUID checks are the access policy's job (their replies
// and log lines are Netdata's), not this parser's.
std::optional<StreamRequest> parseStreamRequest(std::string_view request, std::string* error);

// The child's capabilities expanded from `ver` (§4.1): absent/0/1 → V1; 2 → V2|HLABELS;
// 3 → VN|HLABELS|CLAIM; 4 → 3|CLABELS; 5 → 4|LZ4; ≥ 6 → the bitmask itself.
uint64_t expandVersion(std::optional<uint64_t> ver, bool hasProtocolVersion);

// §4.3 parent side: strip legacy markers, AND with what the bridge implements
// (`supported`, e.g. VCAPS|HLABELS|CLAIM|CLABELS|FUNCTIONS|REPLICATION|BINARY|LZ4|ZSTD), drop every
// compression bit when `compression` is false. Picking one compression is selectCompression's job
// (compression/algorithm.h).
uint64_t negotiate(uint64_t childCaps, uint64_t supported, bool compression);

// The prompt for the negotiated set (§3.1): VCAPS → "Hit me baby, push them over with the
// version=<caps>"; else VN → the same prompt with 5 (LZ4), 4 (CLABELS) or 3; else V2 → "Hit me
// baby, push them over and bring the host labels..."; else "Hit me baby, push them over...".
std::string successPrompt(uint64_t negotiated);

}  // namespace aclkd::stream_bridge
