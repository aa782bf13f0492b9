#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <string>

namespace aclkd::aclk::transport {

using UpgradeRequest = boost::beast::http::request<boost::beast::http::empty_body>;

// Rewrites the request Beast builds for a WebSocket client handshake into exactly
// docs/protocol/aclk.md §5.3's: `Host` without the port, `Connection: Upgrade` (Beast writes
// `upgrade`), an empty `Origin:`, `Sec-WebSocket-Protocol: mqtt`, in the table's order. Beast's
// `set()` moves a field to the end, so the fields are rebuilt from scratch around the key Beast
// generated (Beast keeps that key to check `Sec-WebSocket-Accept`, so it must stay the same).
void shapeUpgradeRequest(UpgradeRequest& req, const std::string& host);

}  // namespace aclkd::aclk::transport
