// `compactmind search --space JSON|FILE`: narrows the space the plugins declare, for one search, without
// touching any plugin (as Optuna users narrow suggest_* ranges, or NNI's search-space file does):
//   {"finetune.steps": {"low": 10, "high": 30},            numeric range, inside the declared one
//    "llm-pruner.importance": {"choices": ["l2", "taylor"]},  a subset of the declared choices
//    "finetune.mode": "lora",                                fixed: not searched, always this value
//    "distill": false}                                       the plugin is left out of the search
// Only narrowing is possible, so every sampled pipeline is still valid for its plugins.
#pragma once

#include "compactmind/search/pipeline_space.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace compactmind::host {

// Applies `overrides` to `plugins` in place. Throws std::invalid_argument naming the key and the
// problem (unknown plugin or parameter, a range outside the declared one, an undeclared choice, a value
// the parameter does not accept).
void apply_space_overrides(std::vector<search::PluginEntry>& plugins, const nlohmann::json& overrides);

}  // namespace compactmind::host
