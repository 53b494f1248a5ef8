#include "smoothing.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace compactmind::smoothquant {
namespace {

// smooth_ln_fcs_llama_like (smooth.py): both clamps at 1e-5 as there; the norm weight is divided by
// s and each linear's input columns multiplied by s, so norm(x)·Wᵀ is unchanged in exact arithmetic.
void smooth_norm_into_linears(at::Tensor& norm_weight, const std::vector<at::Tensor*>& weights,
                              const at::Tensor& act_scales, double alpha, const std::string& where) {
  const int64_t channels = norm_weight.numel();
  if (act_scales.numel() != channels)
    throw std::runtime_error(where + ": calibration statistics have " + std::to_string(act_scales.numel()) +
                             " channels, the norm has " + std::to_string(channels) +
                             " (statistics of another model?)");
  // A block pruned to nothing (every linear without outputs) never reads the norm: nothing to move.
  bool all_empty = true;
  for (const at::Tensor* weight : weights) all_empty = all_empty && weight->size(0) == 0;
  if (all_empty) return;
  std::vector<at::Tensor> column_max;
  for (const at::Tensor* weight : weights) {
    if (weight->size(1) != channels)
      throw std::runtime_error(where + ": a linear fed by the norm has " + std::to_string(weight->size(1)) +
                               " inputs, the norm has " + std::to_string(channels));
    column_max.push_back(weight->abs().amax(0));
  }
  // One factor per channel for every linear fed by this norm: max|W_j| over all of them.
  const at::Tensor weight_scales = at::stack(column_max).amax(0).clamp_min(1e-5);
  const at::Tensor activation = act_scales.to(norm_weight.device(), at::kFloat);
  const at::Tensor scales = (activation.pow(alpha) / weight_scales.pow(1.0 - alpha)).clamp_min(1e-5);
  norm_weight.div_(scales.to(norm_weight.scalar_type()));
  for (at::Tensor* weight : weights) weight->mul_(scales.view({1, -1}).to(weight->scalar_type()));
}

const at::Tensor& stats_of(const ActivationStats& act_scales, const std::string& name) {
  const auto found = act_scales.find(name);
  if (found == act_scales.end())
    throw std::runtime_error("smoothquant: no calibration statistics for '" + name + "'");
  return found->second;
}

}  // namespace

void smooth_llama(LlamaModel& model, const ActivationStats& act_scales, double alpha) {
  if (!(alpha >= 0.0 && alpha <= 1.0))
    throw std::invalid_argument("smoothquant: alpha must be in [0, 1], got " + std::to_string(alpha));
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    DecoderLayer& layer = model.layers[i];
    const std::string prefix = "model.layers." + std::to_string(i);
    auto dense = [&](Linear& linear, const char* suffix) {
      return &as_dense(linear, "smoothquant: " + prefix + suffix).weight;
    };
    // As smooth_lm: q_proj's input statistics stand for q/k/v (one input), gate_proj's for gate/up.
    smooth_norm_into_linears(layer.input_layernorm,
                             {dense(*layer.q_proj, ".self_attn.q_proj"), dense(*layer.k_proj, ".self_attn.k_proj"),
                              dense(*layer.v_proj, ".self_attn.v_proj")},
                             stats_of(act_scales, prefix + ".self_attn.q_proj"), alpha,
                             prefix + ".input_layernorm");
    smooth_norm_into_linears(layer.post_attention_layernorm,
                             {dense(*layer.gate_proj, ".mlp.gate_proj"), dense(*layer.up_proj, ".mlp.up_proj")},
                             stats_of(act_scales, prefix + ".mlp.gate_proj"), alpha,
                             prefix + ".post_attention_layernorm");
  }
}

void round_norms_to_storage_dtype(LlamaModel& model) {
  const std::string& dtype = model.config.storage_dtype;
  at::ScalarType storage;
  if (dtype == "float16") storage = at::kHalf;
  else if (dtype == "bfloat16") storage = at::kBFloat16;
  else if (dtype == "float32") return;
  else throw std::runtime_error("smoothquant: unknown storage dtype '" + dtype + "' in the model's config");
  at::NoGradGuard no_grad;
  for (DecoderLayer& layer : model.layers) {
    layer.input_layernorm.copy_(layer.input_layernorm.to(storage));
    layer.post_attention_layernorm.copy_(layer.post_attention_layernorm.to(storage));
  }
}

int64_t quantize_llama_w8a8(LlamaModel& model, const W8A8Scheme& scheme) {
  int64_t converted = 0;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    DecoderLayer& layer = model.layers[i];
    const std::string prefix = "model.layers." + std::to_string(i);
    auto convert = [&](std::unique_ptr<Linear>& linear, const std::string& suffix) {
      const std::string name = prefix + suffix;
      if (!w8a8_quantizes(scheme, name)) return;
      const DenseLinear& dense = as_dense(*linear, "smoothquant: " + name);
      // The options come from the scheme, exactly as the loader rebuilds them (q/k/v outputs
      // fake-quantized when the scheme quantizes BMM inputs).
      linear = Int8Linear::quantize(dense.weight, scheme.weight_quant, w8a8_linear_options(scheme, name));
      ++converted;
    };
    convert(layer.q_proj, ".self_attn.q_proj");
    convert(layer.k_proj, ".self_attn.k_proj");
    convert(layer.v_proj, ".self_attn.v_proj");
    convert(layer.o_proj, ".self_attn.o_proj");
    convert(layer.gate_proj, ".mlp.gate_proj");
    convert(layer.up_proj, ".mlp.up_proj");
    convert(layer.down_proj, ".mlp.down_proj");
  }
  model.config.source["quantization_config"] = w8a8_quantization_config(scheme);
  return converted;
}

}  // namespace compactmind::smoothquant
