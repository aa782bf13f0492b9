#pragma once

#include <string>

namespace aclkd::cli {

// An array of flat JSON objects (`aclkctl streams`, `aclkctl nodes`) as aligned text columns, one
// header line of the keys of the first object; "(none)" for an empty array.
std::string renderTable(const std::string& arrayJson);

}  // namespace aclkd::cli
