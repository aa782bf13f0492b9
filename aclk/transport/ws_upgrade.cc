#include "aclk/transport/ws_upgrade.h"

namespace aclkd::aclk::transport {

void shapeUpgradeRequest(UpgradeRequest& req, const std::string& host) {
  namespace http = boost::beast::http;
  const std::string key(req[http::field::sec_websocket_key]);
  req.clear();
  req.target("/mqtt");
  req.insert(http::field::host, host);
  req.insert(http::field::upgrade, "websocket");
  req.insert(http::field::connection, "Upgrade");
  req.insert(http::field::sec_websocket_key, key);
  req.insert(http::field::origin, "");
  req.insert(http::field::sec_websocket_protocol, "mqtt");
  req.insert(http::field::sec_websocket_version, "13");
}

}  // namespace aclkd::aclk::transport
