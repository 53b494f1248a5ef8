// RoPE scaling as config.json states it ("rope_scaling", or "rope_parameters" in transformers ≥ 5),
// for the types transformers computes in modeling_rope_utils.py that CompactMind implements:
// "default" (none), "linear", "dynamic" (NTK) and "llama3". Others (yarn, longrope, ...) are refused by
// name when the config is read: silently ignoring them would give wrong logits.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace compactmind {

struct RopeScaling {
  std::string type = "default";                  // "default" | "linear" | "dynamic" | "llama3"
  double factor = 1.0;                           // linear, dynamic, llama3
  double low_freq_factor = 1.0;                  // llama3
  double high_freq_factor = 1.0;                 // llama3
  int64_t original_max_position_embeddings = 0;  // llama3: the pre-training context
  bool operator==(const RopeScaling& other) const {
    return type == other.type && factor == other.factor && low_freq_factor == other.low_freq_factor &&
           high_freq_factor == other.high_freq_factor &&
           original_max_position_embeddings == other.original_max_position_embeddings;
  }
};

// `rope` is the object under `key` ("rope_scaling" or "rope_parameters") in `path`; its type is read
// from "rope_type" or the older "type". Errors name the file, the key and the missing or bad field.
RopeScaling parse_rope_scaling(const nlohmann::json& rope, const std::string& key, const std::filesystem::path& path);

}  // namespace compactmind
