#include "compactmind/contract/plugin_kind.h"

namespace compactmind {

std::string to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::kPruning: return "pruning";
    case PluginKind::kQuantization: return "quantization";
    case PluginKind::kRetraining: return "retraining";
    case PluginKind::kOther: return "other";
  }
  return "unknown";
}

std::optional<PluginKind> plugin_kind_from_abi(int32_t value) {
  if (value < CM_KIND_PRUNING || value > CM_KIND_OTHER) return std::nullopt;
  return static_cast<PluginKind>(value);
}

}  // namespace compactmind
