// The kind of a method plugin, spelled once: the C value a descriptor carries (plugin_abi.h), the
// C++ enum the host and the search use, and the one name people read ("pruning", ...).
#pragma once

#include "compactmind/contract/plugin_abi.h"

#include <cstdint>
#include <optional>
#include <string>

namespace compactmind {

// Values are the ABI's, so converting a checked descriptor value is a cast, never a table.
enum class PluginKind : int32_t {
  kPruning = CM_KIND_PRUNING,
  kQuantization = CM_KIND_QUANTIZATION,
  kRetraining = CM_KIND_RETRAINING,
  kOther = CM_KIND_OTHER,
};

// "pruning", "quantization", "retraining", "other".
std::string to_string(PluginKind kind);
// A descriptor's `kind` field, or nullopt when it is none of the known values.
std::optional<PluginKind> plugin_kind_from_abi(int32_t value);

}  // namespace compactmind
