// Shared helpers of the model I/O tests: tensors by name, printable layer shapes (fixture paths and
// temp folders come from tests/support).
#pragma once

#include "compactmind/llama_model.h"
#include "support/fixtures.h"
#include "support/temp_dir.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <ostream>
#include <string>

namespace compactmind {

// For Catch2's messages (glog's stl_logging makes vectors of unprintable types fail to compile).
inline std::ostream& operator<<(std::ostream& out, const LayerShape& shape) {
  return out << "{heads " << shape.num_attention_heads << ", kv " << shape.num_key_value_heads << ", mlp "
             << shape.intermediate_size << "}";
}

}  // namespace compactmind

namespace compactmind::testing {

// Every float tensor of `model` under its checkpoint name.
inline std::map<std::string, at::Tensor> model_tensors(const LlamaModel& model) {
  std::map<std::string, at::Tensor> tensors{{"model.embed_tokens.weight", model.embed_tokens},
                                            {"model.norm.weight", model.norm}};
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    tensors[prefix + "input_layernorm.weight"] = model.layers[i].input_layernorm;
    tensors[prefix + "post_attention_layernorm.weight"] = model.layers[i].post_attention_layernorm;
  }
  for (const auto& [name, linear] : model.named_linears()) tensors[name + ".weight"] = linear->dense_weight();
  return tensors;
}

}  // namespace compactmind::testing
