#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace aclkd::stream_bridge {

// What the gateway knows of the host a child asks about with `GET /api/v3/stream_info`.
enum class HostKnowledge {
  kUnknown,   // never streamed here
  kOffline,   // known (this run or the state store), not streaming now
  kOnline,    // streaming to this gateway now
  kLocalhost, // the gateway's own machine GUID
};

struct StreamInfoFacts {
  std::string gatewayGuid;  // host_id: who answers
  size_t nodes = 0;         // hosts the gateway knows, itself included
  size_t receivers = 0;     // streams connected now
  HostKnowledge host = HostKnowledge::kUnknown;
  std::time_t firstSeen = 0;
  std::time_t lastSeen = 0;  // now when online
  uint32_t nonce = 0;
};

// The machine GUID of a `/api/v3/stream_info?machine_guid=…` target, "" when absent. The last
// non-empty `machine_guid` wins, as in Netdata.
std::string streamInfoMachineGuid(std::string_view target);

// The answer of a v2 parent (stream-parents.c stream_info_to_json_v1): version, status,
// host_id, nodes, receivers, nonce, then db_status, db_liveness, ingest_type, ingest_status,
// first_time_s, last_time_s.
//
// Where aclkd differs: a real parent answers status 404 for a GUID it never saw, and its child
// then logs "failed to extract fields from JSON stream info response" and connects anyway. A
// gateway keeps no samples, so "a parent with no data for you, ready to receive" is the truthful
// answer for every host it may accept: 200, archived/offline, times 0. A live host is online
// (the child skips a parent that already has it, as with a real parent) and the gateway's own
// GUID is localhost (a child never streams a parent into itself).
std::string renderStreamInfo(const StreamInfoFacts& facts);

}  // namespace aclkd::stream_bridge
