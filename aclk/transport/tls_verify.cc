#include "aclk/transport/tls_verify.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace aclkd::aclk::transport {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

bool acceptCertificate(bool preverified, ssl::verify_context& ctx, bool insecure,
                       std::string* verifyError) {
  if (preverified) {
    return true;
  }
  X509_STORE_CTX* store = ctx.native_handle();
  const int err = X509_STORE_CTX_get_error(store);
  if (insecure && (err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                   err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH)) {
    return true;
  }
  if (verifyError->empty()) {
    *verifyError = std::string(X509_verify_cert_error_string(err)) + " (depth " +
                   std::to_string(X509_STORE_CTX_get_error_depth(store)) + ")";
  }
  return false;
}

}  // namespace

void prepareTlsContext(ssl::context& tls, const std::string& caFile) {
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  if (!caFile.empty()) {
    tls.load_verify_file(caFile);
  } else {
    tls.set_default_verify_paths();
  }
}

void verifyCloudCertificate(ssl::stream<asio::ip::tcp::socket>& stream, const std::string& host,
                            bool insecure, std::string* verifyError) {
  SSL* native = stream.native_handle();
  boost::system::error_code notAnAddress;
  asio::ip::make_address(host, notAnAddress);
  X509_VERIFY_PARAM* param = SSL_get0_param(native);
  if (notAnAddress) {
    SSL_set_tlsext_host_name(native, host.c_str());
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  }
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback([insecure, verifyError](bool pre, ssl::verify_context& ctx) {
    return acceptCertificate(pre, ctx, insecure, verifyError);
  });
}

}  // namespace aclkd::aclk::transport
