#pragma once

namespace aclkd::aclk::transport {

// The descriptor, in this very process, of the peer of `acceptedFd` (a TCP connection accepted on
// a loopback listener), or -1 when the peer belongs to another process: the peer is some other
// descriptor in /proc/self/fd whose local address is the accepted connection's peer and whose
// peer is the listener. That is how the local pipe accepts
// only Paho's own connection; any other process on the host that races to the port is refused.
// Comparing addresses with getsockname/getpeername on our own descriptors avoids parsing
// /proc/net/tcp, and a port pair is unique per host while both ends are open.
int ownPeerSocket(int acceptedFd);

// Takes the local pipe's accepted connection when its peer is this process's own (Paho's) socket,
// and turns Nagle's algorithm off on both ends. Paho C leaves Nagle on for its sockets, and over
// the pipe it bites on every `cmd` request: Paho writes the PUBACK for the request, then the reply
// PUBLISH a moment later, and the kernel holds that second small segment until the first is
// acknowledged, which the receiving end delays by up to 40 ms (measured: 40 ms median added to
// every reply). The flag is per socket and Paho offers no hook for socket options, so it is set on
// Paho's descriptor here, where the peer check has just found it. False for a stranger (nothing
// is changed then).
bool adoptOwnPipe(int acceptedFd);

}  // namespace aclkd::aclk::transport
