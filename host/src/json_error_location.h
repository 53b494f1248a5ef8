// Where in a JSON text parsing failed, as a path a person can find: "[0].pruning_ratio" for the
// pipeline `[{"method": "llm-pruner", "pruning_ratio": 1e400}]` (nlohmann's own message gives only the
// token, e.g. "number overflow parsing '1e400'", without the parameter it belongs to).
#pragma once

#include <string>

namespace compactmind::host {

// The path of the value at which `text` stops being valid JSON ("" for the top level), e.g.
// "[0].pruning_ratio"; `last_key` receives the innermost object key on that path ("" if none).
std::string json_error_location(const std::string& text, std::string& last_key);

}  // namespace compactmind::host
