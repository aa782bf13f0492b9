// libFuzzer target: the control socket's JSON. The daemon's side: one request line from whoever
// may open the socket (daemon/control_request.h, the reader the Gateway answers from); the
// client's side: aclkctl's renderers of the daemon's replies (cli/aclk_state_text.h,
// cli/table_text.h), fed the same bytes as if the reply said them.
// Besides "never crash": a request's fields are valid UTF-8 (the Gateway puts them into its JSON
// reply, whose dump throws on anything else), and the renderers answer every input with text.

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/aclk_state_text.h"
#include "cli/table_text.h"
#include "daemon/control_request.h"

using namespace aclkd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  if (const auto req = daemon::parseControlRequest(line)) {
    nlohmann::ordered_json reply;
    reply["code"] = 1;
    reply["text"] = "unknown command '" + req->command + "' " + req->token + req->rooms +
                    req->url + req->proxy + req->node;
    (void)reply.dump();  // throws (an uncaught exception: a crash) on invalid UTF-8
  }
  (void)cli::renderAclkStateText(line);
  (void)cli::renderTable(line);
  return 0;
}
