// aclkctl: the command line of aclkd, in the style of netdatacli.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/aclk_state_text.h"
#include "cli/table_text.h"
#include "cli/control_client.h"
#include "common/version.h"

namespace {

// netdata-claim.sh spells options with one dash (`-token=T`, `-insecure`); CLI11 wants two.
std::vector<std::string> normaliseArgs(int argc, char** argv) {
  static const std::vector<std::string> longNames = {"token", "rooms", "url", "proxy",
                                                     "insecure", "noproxy", "socket"};
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] != '-') {
      const std::string name = a.substr(1, a.find('=') == std::string::npos ? std::string::npos
                                                                            : a.find('=') - 1);
      for (const auto& n : longNames) {
        if (name == n) {
          a = "-" + a;
          break;
        }
      }
    }
    out.push_back(a);
  }
  std::reverse(out.begin(), out.end());  // CLI11's parse(vector) takes arguments reversed
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aclkd::cli;
  // parse(vector) does not see argv[0], so the usage line needs the name given here.
  CLI::App app{"aclkctl: control a running aclkd", "aclkctl"};
  app.set_version_flag("--version", std::string("aclkctl ") + aclkd::kAclkdVersionNumber);
  app.require_subcommand(1);
  std::string socketFlag;
  app.add_option("--socket", socketFlag,
                 "Control socket (default: $ACLKD_SOCKET, else /run/aclkd/aclkd.sock)");

  auto* state = app.add_subcommand("aclk-state", "Show the state of the cloud link");
  std::string format;
  state->add_option("format", format, "`json` for the JSON form")->check(CLI::IsMember({"json"}));

  auto* reload = app.add_subcommand("reload-claiming-state",
                                    "Re-read claim.conf and cloud.d and apply them");

  auto* streams = app.add_subcommand("streams", "Show the Netdata streams connected to the bridge");
  std::string streamsFormat;
  streams->add_option("format", streamsFormat, "`json` for the JSON form")
      ->check(CLI::IsMember({"json"}));
  auto* nodes = app.add_subcommand("nodes", "Show the nodes the bridge knows");
  std::string nodesFormat;
  nodes->add_option("format", nodesFormat, "`json` for the JSON form")
      ->check(CLI::IsMember({"json"}));

  // Netdata's netdatacli commands of the same names.
  std::string staleWhich, staleFormat;
  auto* removeStale = app.add_subcommand(
      "remove-stale-node",
      "Forget one or all disconnected nodes here, in the state store and in the cloud");
  auto* markStale = app.add_subcommand(
      "mark-stale-nodes-ephemeral",
      "Mark one or all disconnected nodes ephemeral (removed after the ephemeral cleanup delay)");
  for (auto* sub : {removeStale, markStale}) {
    sub->add_option("node", staleWhich, "machine GUID, node id, hostname, or ALL (ALL_NODES)")
        ->required();
    sub->add_option("format", staleFormat, "`json` for the JSON form")
        ->check(CLI::IsMember({"json"}));
  }

  auto* reloadAll = app.add_subcommand(
      "reload", "Re-read aclkd.conf and stream.conf; apply what can change live (as SIGHUP)");

  auto* ping = app.add_subcommand("ping", "Check that aclkd answers on its control socket");

  auto* claim = app.add_subcommand("claim", "Claim the gateway to a cloud Space");
  std::string token, rooms, url, proxy;
  bool insecure = false, noproxy = false;
  claim->add_option("--token", token, "Claim token")->required();
  claim->add_option("--rooms", rooms, "Comma-separated room IDs");
  claim->add_option("--url", url, "Cloud URL (default https://app.netdata.cloud)");
  claim->add_option("--proxy", proxy, "none, env or http://[user:pass@]host:port");
  claim->add_flag("--insecure", insecure, "Skip TLS verification");
  claim->add_flag("--noproxy", noproxy, "Connect without a proxy");

  try {
    app.parse(normaliseArgs(argc, argv));
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  nlohmann::json request;
  int timeout = 10;
  if (*state) {
    request["command"] = "aclk-state";
  } else if (*reloadAll) {
    request["command"] = "reload";
  } else if (*streams) {
    request["command"] = "streams";
  } else if (*nodes) {
    request["command"] = "nodes";
  } else if (*ping) {
    request["command"] = "ping";
  } else if (*removeStale || *markStale) {
    request["command"] = *removeStale ? "remove-stale-node" : "mark-stale-nodes-ephemeral";
    request["node"] = staleWhich;
  } else if (*reload) {
    request["command"] = "reload-claiming-state";
    timeout = 120;
  } else if (*claim) {
    request["command"] = "claim";
    request["token"] = token;
    request["rooms"] = rooms;
    request["url"] = url;
    request["proxy"] = noproxy ? "none" : proxy;
    request["insecure"] = insecure;
    timeout = 120;
  }
  const std::string socketPath = resolveSocketPath(socketFlag);
  std::string error;
  // Claiming and reloading the claiming state may wait for the cloud (up to 120 s): say so on
  // stderr every 5 s, so the operator sees it is working and what the limit is.
  std::function<void(int)> progress;
  if (timeout > 10) {
    const std::string what = request["command"].get<std::string>();
    progress = [what, timeout](int waited) {
      std::fprintf(stderr, "aclkctl: %s: waiting for aclkd (%d s of at most %d s)...\n",
                   what.c_str(), waited, timeout);
    };
  }
  const auto replyLine =
      sendControlRequest(socketPath, request.dump(), timeout, &error, progress);
  if (!replyLine) {
    std::fprintf(stderr, "aclkctl: aclkd is not running or not reachable on %s: %s\n",
                 socketPath.c_str(), error.c_str());
    return 2;
  }
  const auto reply = nlohmann::ordered_json::parse(*replyLine, nullptr, false);
  if (!reply.is_object()) {
    std::fprintf(stderr, "aclkctl: malformed reply from aclkd\n");
    return 1;
  }
  const int code = reply.value("code", 1);
  for (const char* table : {"streams", "nodes"}) {
    if (!reply.contains(table)) continue;
    const bool json = std::string(table) == "streams" ? streamsFormat == "json"
                                                      : nodesFormat == "json";
    std::cout << (json ? reply[table].dump(2) + "\n" : renderTable(reply[table].dump()));
    return code == 0 ? 0 : 1;
  }
  if (staleFormat == "json") {
    std::cout << reply.dump(2) << "\n";
    return code == 0 ? 0 : 1;
  }
  if (reply.contains("state")) {
    if (format == "json") {
      std::cout << reply["state"].dump(2) << "\n";
    } else {
      std::cout << renderAclkStateText(reply["state"].dump());
    }
  } else {
    (code == 0 ? std::cout : std::cerr) << reply.value("text", "") << "\n";
  }
  return code == 0 ? 0 : 1;
}
