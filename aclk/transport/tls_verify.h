#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <string>

namespace aclkd::aclk::transport {

// How the link's wire trusts the cloud (docs/protocol/aclk.md §5.2), apart from the transport's
// sequence of steps so that the certificate policy reads in one place.

// TLS 1.2 or newer; trust from caFile, or the system's store when it is empty. Throws
// boost::system::system_error (a CA file that cannot be read): the transport's start() catches it.
void prepareTlsContext(boost::asio::ssl::context& tls, const std::string& caFile);

// Sets SNI to host (unless host is an IP address), checks the certificate's name or IP against
// host and installs the verify callback. `insecure` forgives a self-signed leaf and a name
// mismatch, nothing else. On a refusal *verifyError gets the first reason (with its depth);
// it must outlive the handshake.
void verifyCloudCertificate(boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream,
                            const std::string& host, bool insecure, std::string* verifyError);

}  // namespace aclkd::aclk::transport
