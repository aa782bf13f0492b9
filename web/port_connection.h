#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <string>

namespace aclkd::web {

// A connection of the stream port whose first bytes showed it is not a Netdata `STREAM`: the
// bridge hands it over whole (plain or TLS, on the socket's own executor) with what it already
// read from it, and forgets it. web/ parses the request head from there, once.
struct PortConnection {
  using Socket = boost::asio::ip::tcp::socket;
  using TlsStream = boost::asio::ssl::stream<Socket>;

  std::unique_ptr<Socket> plain;  // exactly one of plain and tls is set
  std::unique_ptr<TlsStream> tls;
  std::string received;  // the bytes read so far (decrypted): the start of the request head
};

}  // namespace aclkd::web
