// The W8A8 scheme of a model as its config.json records it: a compressed-tensors
// `quantization_config` (the form vLLM and llm-compressor read), plus CompactMind's own key for what
// compressed-tensors cannot say (SmoothQuant's quantized BMM inputs). Written by the quantization
// plugin into LlamaConfig::source; read by the loader to rebuild Int8Linear layers.
//
//   "quantization_config": {
//     "quant_method": "compressed-tensors", "format": "int-quantized",
//     "quantization_status": "compressed", "ignore": ["lm_head"],
//     "config_groups": {"group_0": {"targets": ["Linear"],
//       "weights": {"num_bits": 8, "type": "int", "symmetric": true, "dynamic": false,
//                   "strategy": "channel" | "tensor"},
//       "input_activations": {"num_bits": 8, "type": "int", "symmetric": true, "dynamic": true,
//                             "strategy": "token" | "tensor"}}},
//     "compactmind": {"quantize_bmm_input": true, "smoothquant": {...}}}
#pragma once

#include "compactmind/int8_linear.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace compactmind {

struct W8A8Scheme {
  WeightQuant weight_quant = WeightQuant::kPerChannel;
  ActQuant act_quant = ActQuant::kPerToken;
  // q/k/v outputs fake-quantized (SmoothQuant's quantized BMM input); CompactMind's key.
  bool quantize_bmm_input = true;
  // Modules left in float: exact names or "re:<regex>" (compressed-tensors' convention).
  std::vector<std::string> ignore = {"lm_head"};
  // Free-form record of how the model was made (e.g. SmoothQuant's alpha), saved under "compactmind".
  nlohmann::json provenance = nlohmann::json::object();
};

// The config.json value of "quantization_config" for `scheme`.
nlohmann::json w8a8_quantization_config(const W8A8Scheme& scheme);

// Reads `config_json` (a whole parsed config.json). Returns nullopt when it has no
// quantization_config; throws std::runtime_error naming `path` when it has one this build cannot
// execute (another quant_method or format, not 8-bit symmetric int, static activations, ...).
std::optional<W8A8Scheme> read_w8a8_scheme(const nlohmann::json& config_json, const std::string& path);

// Whether the linear `module_name` (HF name, e.g. "model.layers.0.mlp.up_proj") is quantized.
bool w8a8_quantizes(const W8A8Scheme& scheme, const std::string& module_name);

// Int8Linear options of `module_name` under `scheme` (output quantization on q/k/v when the scheme
// quantizes BMM inputs).
Int8LinearOptions w8a8_linear_options(const W8A8Scheme& scheme, const std::string& module_name);

}  // namespace compactmind
