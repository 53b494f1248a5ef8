// LlamaModel bookkeeping: deep copies, device moves, the list of linears, sizes.
#include "compactmind/llama_model.h"

#include <stdexcept>

namespace compactmind {

namespace {

// Detached copy that keeps whether the tensor is being trained.
at::Tensor deep_copy(const at::Tensor& tensor) {
  if (!tensor.defined()) return tensor;
  at::Tensor copy = tensor.detach().clone();
  if (tensor.requires_grad()) copy.requires_grad_(true);
  return copy;
}

at::Tensor moved(const at::Tensor& tensor, at::Device device) {
  if (!tensor.defined() || tensor.device() == device) return tensor;
  at::Tensor result = tensor.detach().to(device);
  if (tensor.requires_grad()) result.requires_grad_(true);
  return result;
}

std::unique_ptr<Linear> clone_linear(const std::unique_ptr<Linear>& linear) {
  return linear ? linear->clone() : nullptr;
}

int64_t linear_parameters(const Linear& linear) { return linear.in_features() * linear.out_features(); }

}  // namespace

LlamaModel LlamaModel::clone() const {
  LlamaModel copy;
  copy.config = config;
  copy.embed_tokens = deep_copy(embed_tokens);
  for (const auto& layer : layers) {
    DecoderLayer layer_copy;
    layer_copy.input_layernorm = deep_copy(layer.input_layernorm);
    layer_copy.q_proj = clone_linear(layer.q_proj);
    layer_copy.k_proj = clone_linear(layer.k_proj);
    layer_copy.v_proj = clone_linear(layer.v_proj);
    layer_copy.o_proj = clone_linear(layer.o_proj);
    layer_copy.post_attention_layernorm = deep_copy(layer.post_attention_layernorm);
    layer_copy.gate_proj = clone_linear(layer.gate_proj);
    layer_copy.up_proj = clone_linear(layer.up_proj);
    layer_copy.down_proj = clone_linear(layer.down_proj);
    layer_copy.shape = layer.shape;
    copy.layers.push_back(std::move(layer_copy));
  }
  copy.norm = deep_copy(norm);
  copy.lm_head = clone_linear(lm_head);
  copy.device = device;
  copy.source_dir = source_dir;
  return copy;
}

void LlamaModel::to(at::Device target) {
  embed_tokens = moved(embed_tokens, target);
  norm = moved(norm, target);
  for (auto& layer : layers) {
    layer.input_layernorm = moved(layer.input_layernorm, target);
    layer.post_attention_layernorm = moved(layer.post_attention_layernorm, target);
  }
  // The Linear interface has no device move, so only dense layers can follow; a quantized layer
  // stays where its kernels run, and is named rather than silently left behind.
  for (auto& [name, linear] : named_linears()) {
    if (auto* dense = dynamic_cast<DenseLinear*>(linear)) {
      dense->weight = moved(dense->weight, target);
    } else if (target != device) {
      throw std::runtime_error("cannot move '" + name + "' (a '" + linear->kind() + "' linear) to " + target.str() +
                               ": only dense layers can change device; move the model before quantizing it");
    }
  }
  device = target;
}

std::vector<std::pair<std::string, Linear*>> LlamaModel::named_linears() {
  std::vector<std::pair<std::string, Linear*>> result;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    auto& layer = layers[i];
    result.emplace_back(prefix + "self_attn.q_proj", layer.q_proj.get());
    result.emplace_back(prefix + "self_attn.k_proj", layer.k_proj.get());
    result.emplace_back(prefix + "self_attn.v_proj", layer.v_proj.get());
    result.emplace_back(prefix + "self_attn.o_proj", layer.o_proj.get());
    result.emplace_back(prefix + "mlp.gate_proj", layer.gate_proj.get());
    result.emplace_back(prefix + "mlp.up_proj", layer.up_proj.get());
    result.emplace_back(prefix + "mlp.down_proj", layer.down_proj.get());
  }
  if (lm_head) result.emplace_back("lm_head", lm_head.get());
  return result;
}

std::vector<std::pair<std::string, const Linear*>> LlamaModel::named_linears() const {
  std::vector<std::pair<std::string, const Linear*>> result;
  for (auto& [name, linear] : const_cast<LlamaModel*>(this)->named_linears()) result.emplace_back(name, linear);
  return result;
}

int64_t LlamaModel::parameter_count() const {
  int64_t count = embed_tokens.numel() + norm.numel();
  for (const auto& layer : layers) count += layer.input_layernorm.numel() + layer.post_attention_layernorm.numel();
  for (const auto& [name, linear] : named_linears()) count += linear_parameters(*linear);
  return count;
}

int64_t LlamaModel::stored_bytes(at::ScalarType float_dtype) const {
  const int64_t element = int64_t(at::elementSize(float_dtype));
  int64_t bytes = (embed_tokens.numel() + norm.numel()) * element;
  for (const auto& layer : layers)
    bytes += (layer.input_layernorm.numel() + layer.post_attention_layernorm.numel()) * element;
  for (const auto& [name, linear] : named_linears()) bytes += linear->stored_bytes(float_dtype);
  return bytes;
}

std::vector<at::Tensor> LlamaModel::trainable_parameters() {
  std::vector<at::Tensor> parameters{embed_tokens};
  for (auto& layer : layers) {
    parameters.push_back(layer.input_layernorm);
    parameters.push_back(layer.post_attention_layernorm);
  }
  parameters.push_back(norm);
  for (auto& [name, linear] : named_linears())
    if (auto* dense = dynamic_cast<DenseLinear*>(linear)) parameters.push_back(dense->weight);
  return parameters;
}

}  // namespace compactmind
