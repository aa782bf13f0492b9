// `[web] bind to` values, checked by --check-config and the start alike.

#include <boost/asio/ip/address.hpp>

#include "stream_bridge/stream_server.h"

namespace aclkd::stream_bridge {

std::string parseBindTo(const std::string& text, std::string* address, int* port, TlsMode* tls) {
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
      return "'" + opt + "' after '^' must be SSL=optional or SSL=force";
    }
  }
  const auto colon = main.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return "'" + main + "' is not address:port (e.g. 127.0.0.1:19999)";
  }
  *address = main.substr(0, colon);
  if (address->size() > 2 && address->front() == '[' && address->back() == ']') {
    *address = address->substr(1, address->size() - 2);
  }
  if (*address == "*") *address = "0.0.0.0";
  if (*address == "localhost") *address = "127.0.0.1";
  try {
    size_t used = 0;
    *port = std::stoi(main.substr(colon + 1), &used);
    if (used != main.size() - colon - 1 || *port < 0 || *port > 65535) throw std::out_of_range("");
  } catch (...) {
    return "port '" + main.substr(colon + 1) + "' is not a number in 0..65535";
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(*address, ec);
  if (ec) return "'" + *address + "' is not an IP address";
  return "";
}

}  // namespace aclkd::stream_bridge
