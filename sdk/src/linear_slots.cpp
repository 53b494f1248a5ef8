// LlamaModel::named_linear_slots: the owning pointers behind named_linears(), in the same order.
#include "compactmind/llama_model.h"

namespace compactmind {

std::vector<std::pair<std::string, std::unique_ptr<Linear>*>> LlamaModel::named_linear_slots() {
  std::vector<std::pair<std::string, std::unique_ptr<Linear>*>> result;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    DecoderLayer& layer = layers[i];
    result.emplace_back(prefix + "self_attn.q_proj", &layer.q_proj);
    result.emplace_back(prefix + "self_attn.k_proj", &layer.k_proj);
    result.emplace_back(prefix + "self_attn.v_proj", &layer.v_proj);
    result.emplace_back(prefix + "self_attn.o_proj", &layer.o_proj);
    result.emplace_back(prefix + "mlp.gate_proj", &layer.gate_proj);
    result.emplace_back(prefix + "mlp.up_proj", &layer.up_proj);
    result.emplace_back(prefix + "mlp.down_proj", &layer.down_proj);
  }
  if (lm_head) result.emplace_back("lm_head", &lm_head);
  return result;
}

}  // namespace compactmind
