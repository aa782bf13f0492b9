// `[web] bind to` values, checked by --check-config and the start alike.

#include <algorithm>
#include <boost/asio/ip/address.hpp>

#include "common/fail_with.h"
#include "common/url.h"
#include "stream_bridge/stream_server.h"

namespace aclkd::stream_bridge {

bool parseBindTo(const std::string& text, std::string* address, int* port, TlsMode* tls,
                 std::string* error) {
  std::string main = text;
  *tls = TlsMode::kNone;
  if (const auto caret = text.find('^'); caret != std::string::npos) {
    main = text.substr(0, caret);
    const auto opt = text.substr(caret + 1);
    if (opt == "SSL=optional") {
      *tls = TlsMode::kOptional;
    } else if (opt == "SSL=force") {
      *tls = TlsMode::kForce;
    } else {
      return failWith(error, "'" + opt + "' after '^' must be SSL=optional or SSL=force");
    }
  }
  // An IPv6 address goes in brackets ("[::1]:19999"), as in a URL: common/url.h.
  if (!main.empty() && main.front() != '[' && std::count(main.begin(), main.end(), ':') > 1) {
    return failWith(error,
                    "more than one ':' (an IPv6 address goes in brackets, e.g. [::1]:19999)");
  }
  const auto hostPort = splitHostPort(main, 0, error);
  if (!hostPort) return false;
  if (hostPort->host.empty() || !hostPort->port) {
    return failWith(error, "'" + main + "' is not address:port (e.g. 127.0.0.1:19999)");
  }
  *address = hostPort->host;
  *port = *hostPort->port;
  if (*address == "*") *address = "0.0.0.0";
  if (*address == "localhost") *address = "127.0.0.1";
  boost::system::error_code ec;
  boost::asio::ip::make_address(*address, ec);
  if (ec) return failWith(error, "'" + *address + "' is not an IP address");
  return true;
}

}  // namespace aclkd::stream_bridge
