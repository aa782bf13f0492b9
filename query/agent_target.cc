#include "query/agent_target.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"
#include "common/url.h"

namespace aclkd::query {
namespace {

// "1.2.3.4:5678" -> "1.2.3.4"; "::1:5678" -> "[::1]".
std::string peerHost(const std::string& peer) {
  const auto colon = peer.rfind(':');
  return bracketedHost(colon == std::string::npos ? peer : peer.substr(0, colon));
}

std::string trimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

const NodeFacts* findNode(const std::vector<NodeFacts>& nodes, std::string_view key) {
  if (key.empty()) return nullptr;
  for (const auto& n : nodes) {
    if (!n.nodeId.empty() && asciiEqualsIgnoreCase(n.nodeId, key)) return &n;
  }
  for (const auto& n : nodes) {
    if (asciiEqualsIgnoreCase(n.machineGuid, key)) return &n;
  }
  for (const auto& n : nodes) {
    if (n.hostname == key) return &n;
  }
  return nullptr;
}

std::optional<AgentTarget> targetFor(const NodeFacts& node, int defaultPort, std::string* error) {
  std::string text;
  bool relayed = node.hops >= 2;
  if (!node.guidQueryUrl.empty()) {
    text = node.guidQueryUrl;
    relayed = false;  // the operator wrote the node's own address
  } else if (!node.keyQueryUrl.empty()) {
    text = node.keyQueryUrl;
  } else {
    if (node.peer.empty()) {
      *error = "the address of the agent of node '" + node.hostname + "' is not known";
      return std::nullopt;
    }
    text = "http://" + peerHost(node.peer) + ":" + std::to_string(defaultPort);
  }
  std::string parseError;
  const auto url = parseUrl(text, &parseError);
  if (!url || (url->scheme != "http" && url->scheme != "https")) {
    *error = "query url '" + text + "' of node '" + node.hostname + "' is not an http(s) URL" +
             (parseError.empty() ? "" : ": " + parseError);
    return std::nullopt;
  }
  AgentTarget t;
  const std::string host = url->host.find(':') != std::string::npos ? "[" + url->host + "]"
                                                                      : url->host;
  t.agentKey = url->scheme + "://" + host + ":" + std::to_string(url->port);
  const std::string path = url->path.substr(0, url->path.find('?'));
  t.rootUrl = trimSlash(t.agentKey + path);
  t.baseUrl = relayed ? t.rootUrl + "/host/" + node.machineGuid : t.rootUrl;
  t.caFile = node.caFile;
  t.insecure = node.insecure;
  return t;
}

}  // namespace aclkd::query
