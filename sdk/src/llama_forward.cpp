// LlamaModel::forward: the computation of transformers' LlamaForCausalLM (eager attention, float32),
// with each decoder layer's own head counts and MLP width (structured pruning makes them differ).
#include "compactmind/llama_model.h"

#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>

namespace compactmind {
namespace {

// In-place updates save an allocation and a pass over memory, but autograd needs the originals of
// tensors that require grad (training, Taylor importance): only take them when nothing is recorded.
bool may_update_in_place() { return c10::InferenceMode::is_enabled() || !at::GradMode::is_enabled(); }

// As transformers' LlamaRMSNorm: x · rsqrt(mean(x²) + eps) · weight, in float32.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor inverse_rms = at::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true).add(eps));
  if (may_update_in_place()) return (x * inverse_rms).mul_(weight);
  return x * inverse_rms * weight;
}

// cos and sin of the default RoPE for positions [0, length), each [length, head_dim]. `sin` carries
// the sign of rotate_half: rotate_half(x)·sin = cat(x₂, x₁)·cat(-sin, sin), so applying the rotation
// is one swap of halves and two products.
struct RopeTables {
  at::Tensor cos;
  at::Tensor signed_sin;
};

RopeTables compute_rope_tables(const at::Device& device, int64_t head_dim, double theta, int64_t length) {
  // As transformers' _compute_default_rope_parameters and LlamaRotaryEmbedding, in float32:
  // inv_freq = 1 / theta^(arange(0, d, 2) / d); angle = position · inv_freq; emb = cat(angle, angle).
  const auto float_options = at::TensorOptions().dtype(at::kFloat).device(device);
  const at::Tensor exponents = at::arange(0, head_dim, 2, at::TensorOptions().dtype(at::kLong).device(device))
                                   .to(at::kFloat)
                                   .div(static_cast<double>(head_dim));
  const at::Tensor inv_freq = at::pow(theta, exponents).reciprocal();
  const at::Tensor positions = at::arange(length, float_options);
  const at::Tensor angles = at::outer(positions, inv_freq);  // [length, head_dim / 2]
  const at::Tensor half_sin = angles.sin();
  return {at::cat({angles, angles}, -1).cos(), at::cat({half_sin.neg(), half_sin}, -1)};
}

// Tables are computed once per (device, head_dim, theta) and grown when a longer sequence comes, rather
// than per layer or per call. They are created outside inference mode: an inference tensor could not
// be saved for backward when the same tables later serve a training forward.
RopeTables rope_tables(const at::Device& device, int64_t head_dim, double theta, int64_t length) {
  static std::mutex mutex;
  static std::map<std::tuple<std::string, int64_t, double>, RopeTables> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  RopeTables& tables = cache[{device.str(), head_dim, theta}];
  if (!tables.cos.defined() || tables.cos.size(0) < length) {
    const c10::InferenceMode not_inference(false);
    const at::NoGradGuard no_grad;
    // Grow geometrically so that token-by-token decoding does not recompute at every step.
    const int64_t grown = std::max<int64_t>(length, tables.cos.defined() ? 2 * tables.cos.size(0) : 0);
    tables = compute_rope_tables(device, head_dim, theta, grown);
  }
  return tables;
}

// x [batch, heads, seq, head_dim]; cos/sin [seq, head_dim].
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signed_sin) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor swapped = at::cat({x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  if (may_update_in_place()) return (x * cos).addcmul_(swapped, signed_sin);
  return x * cos + swapped * signed_sin;
}

std::string layer_prefix(size_t index) { return "model.layers." + std::to_string(index) + "."; }

at::Tensor run_linear(const Linear& linear, const at::Tensor& input, const std::string& name,
                      const ForwardOptions& options) {
  if (options.observer != nullptr && *options.observer) (*options.observer)(name, input);
  return linear.forward(input);
}

struct AttentionContext {
  at::Tensor cos;          // [seq, head_dim] for the new positions
  at::Tensor signed_sin;   // [seq, head_dim]
  at::Tensor causal_mask;  // [seq, past + seq] bool, true where masked; undefined when nothing is
  int64_t head_dim = 0;
};

// Self-attention of one layer on normed input x [batch, seq, hidden] → [batch, seq, hidden].
at::Tensor attention(const DecoderLayer& layer, size_t layer_index, const at::Tensor& x,
                     const AttentionContext& context, const ForwardOptions& options) {
  const int64_t batch = x.size(0);
  const int64_t seq = x.size(1);
  const int64_t heads = layer.shape.num_attention_heads;
  const int64_t kv_heads = layer.shape.num_key_value_heads;
  const int64_t head_dim = context.head_dim;
  const int64_t group = heads / kv_heads;
  const std::string prefix = layer_prefix(layer_index) + "self_attn.";

  // [batch, seq, heads·head_dim] → [batch, heads, seq, head_dim]
  auto split_heads = [&](const at::Tensor& projected, int64_t count) {
    return projected.view({batch, seq, count, head_dim}).transpose(1, 2);
  };
  const at::Tensor query = apply_rope(split_heads(run_linear(*layer.q_proj, x, prefix + "q_proj", options), heads),
                                      context.cos, context.signed_sin);
  at::Tensor key = apply_rope(split_heads(run_linear(*layer.k_proj, x, prefix + "k_proj", options), kv_heads),
                              context.cos, context.signed_sin);
  at::Tensor value = split_heads(run_linear(*layer.v_proj, x, prefix + "v_proj", options), kv_heads);

  if (options.cache != nullptr) {
    at::Tensor& cached_key = options.cache->keys[layer_index];
    at::Tensor& cached_value = options.cache->values[layer_index];
    if (cached_key.defined()) {
      key = at::cat({cached_key, key}, 2);
      value = at::cat({cached_value, value}, 2);
    } else {
      key = key.contiguous();
      value = value.contiguous();
    }
    cached_key = key;
    cached_value = value;
  }
  const int64_t total = key.size(2);

  // Grouped-query attention without repeating keys/values: the `group` query heads sharing one
  // key/value head are stacked along the sequence axis, so each product is one batched GEMM against
  // that head's keys. Scaling q (seq × head_dim) instead of the scores (seq × total) is cheaper.
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  const at::Tensor grouped_query =
      query.mul(scale).reshape({batch, kv_heads, group * seq, head_dim});
  at::Tensor scores = at::matmul(grouped_query, key.transpose(2, 3));  // [b, kv, group·seq, total]
  if (context.causal_mask.defined()) {
    // As transformers: masked scores get float32's lowest value, so softmax gives them exactly 0.
    const at::Tensor mask = context.causal_mask.unsqueeze(0);  // [1, seq, total] per group
    const at::Tensor grouped = scores.view({batch, kv_heads, group, seq, total});
    const float lowest = std::numeric_limits<float>::lowest();
    if (may_update_in_place()) {
      grouped.masked_fill_(mask, lowest);
    } else {
      scores = grouped.masked_fill(mask, lowest).view({batch, kv_heads, group * seq, total});
    }
  }
  const at::Tensor probabilities = at::softmax(scores, -1, at::kFloat);
  const at::Tensor context_heads = at::matmul(probabilities, value)  // [b, kv, group·seq, head_dim]
                                       .view({batch, heads, seq, head_dim})
                                       .transpose(1, 2)
                                       .reshape({batch, seq, heads * head_dim});
  return run_linear(*layer.o_proj, context_heads, prefix + "o_proj", options);
}

// SwiGLU: down(silu(gate(x)) · up(x)).
at::Tensor mlp(const DecoderLayer& layer, size_t layer_index, const at::Tensor& x,
               const ForwardOptions& options) {
  const std::string prefix = layer_prefix(layer_index) + "mlp.";
  at::Tensor gate = run_linear(*layer.gate_proj, x, prefix + "gate_proj", options);
  const at::Tensor up = run_linear(*layer.up_proj, x, prefix + "up_proj", options);
  at::Tensor activated;
  if (may_update_in_place()) {
    activated = at::silu_(gate).mul_(up);
  } else {
    activated = at::silu(gate) * up;
  }
  return run_linear(*layer.down_proj, activated, prefix + "down_proj", options);
}

void check_layer_shape(const DecoderLayer& layer, size_t index) {
  const LayerShape& shape = layer.shape;
  const bool consistent = shape.num_attention_heads >= 0 && shape.num_key_value_heads >= 0 &&
                          shape.intermediate_size >= 0 &&
                          (shape.num_attention_heads == 0) == (shape.num_key_value_heads == 0) &&
                          (shape.num_key_value_heads == 0 ||
                           shape.num_attention_heads % shape.num_key_value_heads == 0);
  if (!consistent) {
    throw std::invalid_argument(
        "decoder layer " + std::to_string(index) + " has " + std::to_string(shape.num_attention_heads) +
        " query heads and " + std::to_string(shape.num_key_value_heads) +
        " key/value heads: both must be 0, or the query heads a multiple of the key/value heads");
  }
}

}  // namespace

at::Tensor LlamaModel::forward(const at::Tensor& ids, const ForwardOptions& options) const {
  if (ids.dim() != 2) {
    throw std::invalid_argument("LlamaModel::forward: ids must be [batch, seq], got " +
                                std::to_string(ids.dim()) + " dimensions");
  }
  const int64_t seq = ids.size(1);
  const int64_t past = options.cache != nullptr ? options.cache->length : 0;
  if (options.cache != nullptr) {
    options.cache->keys.resize(layers.size());
    options.cache->values.resize(layers.size());
  }

  AttentionContext context;
  context.head_dim = config.head_dim;
  const RopeTables tables = rope_tables(device, config.head_dim, config.rope_theta, past + seq);
  context.cos = tables.cos.narrow(0, past, seq);
  context.signed_sin = tables.signed_sin.narrow(0, past, seq);
  if (seq > 1) {
    // Query i sits at position past + i and sees keys 0 .. past + i.
    const auto long_options = at::TensorOptions().dtype(at::kLong).device(device);
    const at::Tensor key_positions = at::arange(past + seq, long_options);
    const at::Tensor query_positions = at::arange(past, past + seq, long_options);
    context.causal_mask = key_positions.unsqueeze(0) > query_positions.unsqueeze(1);
  }

  at::Tensor hidden = at::embedding(embed_tokens, ids.to(device, at::kLong));
  for (size_t index = 0; index < layers.size(); ++index) {
    const DecoderLayer& layer = layers[index];
    check_layer_shape(layer, index);
    if (options.hidden_states != nullptr) options.hidden_states->push_back(hidden);
    // A sub-block pruned to nothing contributes nothing: the residual passes through unchanged.
    if (layer.shape.num_attention_heads > 0) {
      const at::Tensor normed = rms_norm(hidden, layer.input_layernorm, config.rms_norm_eps);
      hidden = hidden + attention(layer, index, normed, context, options);
    }
    if (layer.shape.intermediate_size > 0) {
      const at::Tensor normed = rms_norm(hidden, layer.post_attention_layernorm, config.rms_norm_eps);
      hidden = hidden + mlp(layer, index, normed, options);
    }
  }
  if (options.cache != nullptr) options.cache->length = past + seq;

  hidden = rms_norm(hidden, norm, config.rms_norm_eps);
  if (options.hidden_states != nullptr) options.hidden_states->push_back(hidden);
  if (!options.compute_logits) return hidden;
  if (lm_head) return run_linear(*lm_head, hidden, "lm_head", options);
  return at::linear(hidden, embed_tokens);  // tied word embeddings
}

}  // namespace compactmind
