#include "testcloud/https_server.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <openssl/types.h>

// lws-genrsa.h (pulled in by libwebsockets.h) names OpenSSL's RSA type, which OpenSSL 3 only
// declares when deprecated APIs are visible; the build hides them. Declaring the type, not
// re-enabling the API, keeps every deprecated call a compile error here too.
typedef struct rsa_st RSA;
#include <libwebsockets.h>
#include <spdlog/spdlog.h>
#include <vector>

#include "common/fail_with.h"
#include "common/text.h"

namespace aclkd::testcloud {
namespace {

// A reply is written in slices of this size, one per WRITEABLE callback, so one large answer
// (the claims list) does not make lws buffer it whole.
constexpr size_t kWriteChunk = 16 * 1024;

// How much of an oversized body is read (and dropped) to answer 413 cleanly before giving up and
// closing the connection.
constexpr size_t kMaxDiscard = 64u << 20;

// One request/response exchange. Lives on the heap because lws hands out per-session memory
// malloc'd and zeroed, where only POD may live.
struct Transaction {
  Request request;
  Reply reply;
  bool replying = false;     // reply set; later body callbacks are ignored
  bool headersSent = false;
  bool closeAfter = false;   // the request body was not read: the connection cannot be reused
  bool headOnly = false;
  bool discarding = false;   // body over the limit: read and dropped, then 413
  size_t discarded = 0;
  size_t sent = 0;
};

// lws's per-session data (POD).
struct SessionData {
  Transaction* txn;
};

struct MethodToken {
  lws_token_indexes token;
  const char* name;
};

// Debian's lws is built with LWS_WITH_HTTP_UNCOMMON_HEADERS, so PUT/PATCH/DELETE/OPTIONS have
// their own URI tokens; whichever one holds the path tells the method.
constexpr MethodToken kMethods[] = {
    {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
    {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_PATCH_URI, "PATCH"},
    {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    {WSI_TOKEN_HEAD_URI, "HEAD"},
};

std::string copyHeader(lws* wsi, lws_token_indexes token) {
  const int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) {
    return "";
  }
  std::string out(static_cast<size_t>(len) + 1, '\0');
  const int n = lws_hdr_copy(wsi, out.data(), len + 1, token);
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

void readQuery(lws* wsi, std::map<std::string, std::string>& query) {
  const int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
  if (total <= 0) {
    return;
  }
  std::vector<char> buf(static_cast<size_t>(total) + 1);
  for (int i = 0;; ++i) {
    const int n = lws_hdr_copy_fragment(wsi, buf.data(), static_cast<int>(buf.size()),
                                        WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) {
      break;
    }
    const std::string_view arg(buf.data(), static_cast<size_t>(n));
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos) {
      query[std::string(arg)] = "";
    } else {
      query[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
    }
  }
}

// Every header lws parsed into a token. lws 4.1 cannot enumerate headers it does not know (custom
// ones are only reachable by name), so endpoints that need one must ask for it by name here.
void readHeaders(lws* wsi, std::map<std::string, std::string>& headers) {
  for (int t = 0; t < WSI_TOKEN_COUNT; ++t) {
    const auto token = static_cast<lws_token_indexes>(t);
    const char* name = reinterpret_cast<const char*>(lws_token_to_string(token));
    if (name == nullptr) {
      continue;
    }
    // Real headers are spelled "name:"; method tokens ("put "), pseudo-headers (":path") and the
    // request line pieces are not.
    const size_t len = std::strlen(name);
    if (len < 2 || name[len - 1] != ':' || name[0] == ':') {
      continue;
    }
    if (lws_hdr_total_length(wsi, token) <= 0) {
      continue;
    }
    headers[asciiLower(std::string_view(name, len - 1))] = copyHeader(wsi, token);
  }
}

bool readRequestLine(lws* wsi, Request& request) {
  for (const auto& m : kMethods) {
    if (lws_hdr_total_length(wsi, m.token) > 0) {
      request.method = m.name;
      request.path = copyHeader(wsi, m.token);
      return true;
    }
  }
  return false;
}

void logFromLws(int level, const char* line) {
  std::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (level & LLL_ERR) {
    spdlog::error("lws: {}", text);
  } else {
    spdlog::debug("lws: {}", text);
  }
}

}  // namespace

// The lws protocol callback and its helpers; a friend of HttpsServer so the class keeps lws types
// out of its header.
struct ServerCallbacks {
  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    auto* session = static_cast<SessionData*>(user);
    switch (reason) {
      case LWS_CALLBACK_HTTP:
        return onRequest(wsi, session);
      case LWS_CALLBACK_HTTP_BODY:
        return onBody(wsi, session, static_cast<const char*>(in), len);
      case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (session && session->txn && !session->txn->replying) {
          if (session->txn->discarding) {
            reply(wsi, *session->txn, tooLarge(wsi));
          } else {
            respond(wsi, *session->txn);
          }
        }
        return 0;
      case LWS_CALLBACK_HTTP_WRITEABLE:
        return onWriteable(wsi, session);
      case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      case LWS_CALLBACK_CLOSED_HTTP:
        if (session) {
          delete session->txn;
          session->txn = nullptr;
        }
        return 0;
      default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
  }

  static HttpsServer& server(lws* wsi) {
    return *static_cast<HttpsServer*>(lws_context_user(lws_get_context(wsi)));
  }

  static int onRequest(lws* wsi, SessionData* session) {
    if (session == nullptr) {
      return -1;
    }
    // A kept-alive connection reuses the session; a previous exchange is finished by now.
    delete session->txn;
    session->txn = new Transaction;
    Transaction& txn = *session->txn;
    if (!readRequestLine(wsi, txn.request)) {
      txn.closeAfter = true;
      reply(wsi, txn, errorReply(405, "ErrMethodNotAllowed", "unsupported method"));
      return 0;
    }
    txn.headOnly = txn.request.method == "HEAD";
    readQuery(wsi, txn.request.query);
    readHeaders(wsi, txn.request.headers);

    const std::string lengthText = txn.request.header("content-length");
    const unsigned long long length = lengthText.empty() ? 0 : std::strtoull(lengthText.c_str(),
                                                                              nullptr, 10);
    if (lengthText.empty() && !txn.request.header("transfer-encoding").empty()) {
      // Agents send a Content-Length; a chunked body would have no size to check up front.
      txn.closeAfter = true;
      reply(wsi, txn, errorReply(411, "ErrLengthRequired", "a Content-Length is required"));
      return 0;
    }
    if (length > server(wsi).options_.maxBodyBytes) {
      if (txn.request.header("expect").find("100-continue") != std::string::npos) {
        // The client waits for a go-ahead before sending the body: answer now, and close, since
        // whether it then sends the body anyway is up to the client.
        txn.closeAfter = true;
        reply(wsi, txn, tooLarge(wsi));
      } else {
        // The body is already on its way. Closing with unread data makes the kernel send a reset
        // that can destroy the 413 before the client reads it, so read it, drop it, then answer.
        txn.discarding = true;
      }
      return 0;
    }
    if (length == 0) {
      respond(wsi, txn);
      return 0;
    }
    txn.request.body.reserve(static_cast<size_t>(length));
    return 0;  // lws now delivers the body, then HTTP_BODY_COMPLETION
  }

  static int onBody(lws* wsi, SessionData* session, const char* data, size_t len) {
    if (session == nullptr || session->txn == nullptr || session->txn->replying) {
      return 0;
    }
    Transaction& txn = *session->txn;
    if (txn.discarding) {
      txn.discarded += len;
      return txn.discarded > kMaxDiscard ? -1 : 0;
    }
    if (txn.request.body.size() + len > server(wsi).options_.maxBodyBytes) {
      return -1;  // more than the Content-Length that was checked: not HTTP we can answer
    }
    txn.request.body.append(data, len);
    return 0;
  }

  static Reply tooLarge(lws* wsi) {
    return errorReply(413, "ErrPayloadTooLarge",
                      "request bodies are limited to " +
                          std::to_string(server(wsi).options_.maxBodyBytes) + " bytes");
  }

  static void respond(lws* wsi, Transaction& txn) {
    spdlog::debug("{} {} ({} body bytes)", txn.request.method, txn.request.path,
                  txn.request.body.size());
    Reply r = server(wsi).router_.dispatch(txn.request);
    reply(wsi, txn, std::move(r));
  }

  static void reply(lws* wsi, Transaction& txn, Reply r) {
    txn.reply = std::move(r);
    txn.replying = true;
    lws_callback_on_writable(wsi);
  }

  static int onWriteable(lws* wsi, SessionData* session) {
    if (session == nullptr || session->txn == nullptr || !session->txn->replying) {
      return 0;
    }
    Transaction& txn = *session->txn;
    const Reply& r = txn.reply;
    // RFC 9110: 204 and 304 never carry a body (nor a Content-Length); HEAD gets headers only.
    const bool noBody = r.status == 204 || r.status == 304 || txn.headOnly;
    if (!txn.headersSent) {
      if (writeHeaders(wsi, txn, noBody) != 0) {
        return -1;
      }
      txn.headersSent = true;
      if (noBody || r.body.empty()) {
        return finish(wsi, session);
      }
      // Headers and body go out in separate writes (required for h2, harmless for h1).
      lws_callback_on_writable(wsi);
      return 0;
    }
    const size_t n = std::min(kWriteChunk, r.body.size() - txn.sent);
    const bool last = txn.sent + n == r.body.size();
    std::vector<unsigned char> buf(LWS_PRE + n);
    std::memcpy(buf.data() + LWS_PRE, r.body.data() + txn.sent, n);
    if (lws_write(wsi, buf.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
        static_cast<int>(n)) {
      return -1;
    }
    txn.sent += n;
    if (!last) {
      lws_callback_on_writable(wsi);
      return 0;
    }
    return finish(wsi, session);
  }

  static int writeHeaders(lws* wsi, Transaction& txn, bool noBody) {
    const Reply& r = txn.reply;
    unsigned char buf[LWS_PRE + 2048];
    unsigned char* start = buf + LWS_PRE;
    unsigned char* p = start;
    unsigned char* end = buf + sizeof buf - 1;
    if (noBody && !txn.headOnly) {
      if (lws_add_http_header_status(wsi, static_cast<unsigned>(r.status), &p, end) != 0) {
        return -1;
      }
    } else if (lws_add_http_common_headers(
                   wsi, static_cast<unsigned>(r.status),
                   r.contentType.empty() ? nullptr : r.contentType.c_str(),
                   static_cast<lws_filepos_t>(r.body.size()), &p, end) != 0) {
      return -1;
    }
    for (const auto& [name, value] : r.headers) {
      const std::string key = asciiLower(name) + ":";
      if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(key.c_str()),
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), &p, end) != 0) {
        return -1;
      }
    }
    if (txn.closeAfter &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                     reinterpret_cast<const unsigned char*>("close"), 5, &p,
                                     end) != 0) {
      return -1;
    }
    return lws_finalize_write_http_header(wsi, start, &p, end) != 0 ? -1 : 0;
  }

  static int finish(lws* wsi, SessionData* session) {
    const bool close = session->txn->closeAfter;
    delete session->txn;
    session->txn = nullptr;
    if (close) {
      return -1;
    }
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
  }
};

namespace {

const lws_protocols kProtocols[] = {
    {"http", &ServerCallbacks::callback, sizeof(SessionData), 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

HttpsServer::HttpsServer(ServerOptions options, const ApiRouter& router)
    : options_(std::move(options)), router_(router) {}

HttpsServer::~HttpsServer() {
  if (context_ != nullptr) {
    lws_context_destroy(context_);
  }
}

std::string HttpsServer::url() const {
  const bool tls = !options_.certFile.empty();
  return std::string(tls ? "https://" : "http://") + options_.bindAddress + ":" +
         std::to_string(options_.port);
}

bool HttpsServer::start(std::string* error) {
  // lws reports per-connection trouble (a client that fails the TLS handshake) at notice/warn;
  // a test cloud only wants its own failures.
  lws_set_log_level(LLL_ERR, logFromLws);

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.user = this;
  context_ = lws_create_context(&info);
  if (context_ == nullptr) {
    return failWith(error, "cannot create the lws context");
  }

  lws_context_creation_info vinfo;
  std::memset(&vinfo, 0, sizeof vinfo);
  vinfo.vhost_name = "testcloud";
  vinfo.port = options_.port;
  vinfo.iface = options_.bindAddress.c_str();
  vinfo.protocols = kProtocols;
  // Without DO_SSL_GLOBAL_INIT on the vhost itself, lws silently serves plaintext despite the
  // certificate (docs/dependencies.md §5).
  vinfo.options =
      LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
  if (!options_.certFile.empty()) {
    vinfo.ssl_cert_filepath = options_.certFile.c_str();
    vinfo.ssl_private_key_filepath = options_.keyFile.c_str();
    // h2 would need every reply split into header and body writes with stream bookkeeping; agents
    // speak HTTP/1.1 to the cloud anyway.
    vinfo.alpn = "http/1.1";
  }
  if (lws_create_vhost(context_, &vinfo) == nullptr) {
    return failWith(
        error, "cannot listen on " + options_.bindAddress + ":" + std::to_string(options_.port) +
                   (options_.certFile.empty() ? "" : " (or cannot load the certificate or key)"));
  }
  return true;
}

void HttpsServer::run() {
  while (!stopping_.load()) {
    if (lws_service(context_, 0) < 0) {
      break;
    }
  }
}

void HttpsServer::stop() {
  stopping_.store(true);
  if (context_ != nullptr) {
    lws_cancel_service(context_);
  }
}

}  // namespace aclkd::testcloud
