#pragma once

namespace aclkd::aclk::transport {

// True when the peer of `acceptedFd` (a TCP connection accepted on a loopback listener) is a
// socket of this very process: some other descriptor in /proc/self/fd whose local address is the
// accepted connection's peer and whose peer is the listener. That is how the local pipe accepts
// only Paho's own connection; any other process on the host that races to the port is refused.
// Comparing addresses with getsockname/getpeername on our own descriptors avoids parsing
// /proc/net/tcp, and a port pair is unique per host while both ends are open.
bool isOwnSocket(int acceptedFd);

}  // namespace aclkd::aclk::transport
