// LLaMA configuration: Hugging Face `config.json` in both forms (transformers ≥ 5 with
// "rope_parameters", and the older top-level "rope_theta"/"rope_scaling"), plus CompactMind's
// per-layer extension for structurally pruned models (docs/model-format.md).
#pragma once

#include "compactmind/rope_scaling.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace compactmind {

// Dimensions one decoder layer really has; they differ per layer after structured pruning.
struct LayerShape {
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t intermediate_size = 0;
  bool operator==(const LayerShape& other) const {
    return num_attention_heads == other.num_attention_heads &&
           num_key_value_heads == other.num_key_value_heads &&
           intermediate_size == other.intermediate_size;
  }
};

struct LlamaConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;    // the uniform (unpruned) width
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;  // the uniform (unpruned) count
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;             // explicit or hidden_size / num_attention_heads
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;         // "default" when config.json asks for none
  int64_t sliding_window = 0;       // Mistral's attention window; 0: none (every earlier position seen)
  bool tie_word_embeddings = false;
  int64_t bos_token_id = 1;
  int64_t eos_token_id = 2;               // the first of eos_token_ids
  std::vector<int64_t> eos_token_ids{2};  // every id that ends generation (Llama-3 lists several)
  std::string storage_dtype = "float16";  // "float32" | "float16" | "bfloat16" as in the checkpoint
  std::vector<LayerShape> layers;         // one per decoder layer, always filled
  nlohmann::json source;                  // the parsed config.json, so unknown keys survive a save

  // Parses and validates; errors name `path` and the offending key.
  static LlamaConfig from_json(const nlohmann::json& json, const std::filesystem::path& path);
  static LlamaConfig load(const std::filesystem::path& config_json_path);
  // Standard HF form; per-layer dims written under "compactmind_layers" only when non-uniform.
  nlohmann::json to_json() const;
  bool is_uniform() const;
  // Whether generation ends at `token` (eos_token_id, or any entry of a listed eos_token_id).
  bool is_eos(int64_t token) const;
};

}  // namespace compactmind
