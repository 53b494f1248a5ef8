// Shared fixtures of the search tests: declared spaces as plugins would ship them (temp folders:
// tests/support).
#pragma once

#include "compactmind/contract/parameter_space.h"
#include "compactmind/search/pipeline_space.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace compactmind::search::testing {

inline ParameterSpace space_of(const std::string& json, const std::string& owner = "test") {
  return ParameterSpace::parse(json, owner);
}

// Spaces shaped like the built-in plugins': a pruner with a conditional parameter, a quantizer, a
// retrainer with a fixed parameter.
inline std::vector<PluginEntry> builtin_like_plugins() {
  return {
      {"llm_pruner", PluginKind::kPruning, space_of(R"({"parameters": [
          {"name": "ratio", "type": "float", "low": 0.05, "high": 0.5, "default": 0.2},
          {"name": "importance", "type": "categorical", "choices": ["random", "l1", "l2", "taylor"], "default": "l2"},
          {"name": "taylor_samples", "type": "int", "low": 4, "high": 64, "step": 4, "default": 16,
           "condition": {"parameter": "importance", "equals": "taylor"}},
          {"name": "layer_start", "type": "int", "low": 0, "high": 4, "default": 1, "tunable": false}]})")},
      {"smoothquant", PluginKind::kQuantization, space_of(R"({"parameters": [
          {"name": "alpha", "type": "float", "low": 0.0, "high": 1.0, "default": 0.5},
          {"name": "per_token", "type": "bool", "default": true}]})")},
      {"lora_retrain", PluginKind::kRetraining, space_of(R"({"parameters": [
          {"name": "lr", "type": "float", "low": 1e-5, "high": 1e-2, "log": true, "default": 1e-4},
          {"name": "steps", "type": "int", "low": 10, "high": 200, "step": 10, "default": 50},
          {"name": "rank", "type": "int", "low": 4, "high": 16, "default": 8, "tunable": false}]})")},
      {"dump_stats", PluginKind::kOther, space_of(R"({"parameters": []})")},
  };
}

}  // namespace compactmind::search::testing
