// LlamaModel::forward: the computation of transformers' LlamaForCausalLM (eager attention, float32),
// with each decoder layer's own head counts and MLP width (structured pruning makes them differ).
#include "compactmind/llama_model.h"
#include "compactmind/rope_frequencies.h"

#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

// Queries are processed in chunks of this many positions: a chunk only multiplies against the keys it
// can see (causal), which skips most of the masked upper triangle — at 512 positions, 4 chunks do 62.5%
// of the full score matrix's work in the GEMMs, the mask and the softmax.
constexpr int64_t kQueryChunk = 128;

// cos and sin of the RoPE angles for positions [0, length), each [length, head_dim / 2].
// transformers' emb = cat(angle, angle), so both halves of head_dim share one table, and
// q·cos + rotate_half(q)·sin is (x₁·cos − x₂·sin, x₂·cos + x₁·sin) on the halves x₁, x₂.
struct RopeTables {
  at::Tensor cos;
  at::Tensor sin;
};

RopeTables compute_rope_tables(const at::Tensor& inv_freq, int64_t length) {
  // As transformers' LlamaRotaryEmbedding, in float32: angle = position · inv_freq.
  const at::Tensor angles = at::outer(at::arange(length, inv_freq.options()), inv_freq);  // [length, head_dim / 2]
  return {angles.cos(), angles.sin()};
}

// Tables are computed once per (device, inverse frequencies) and grown when a longer sequence comes,
// rather than per layer or per call. They are created outside inference mode: an inference tensor
// could not be saved for backward when the same tables later serve a training forward.
RopeTables rope_tables(const LlamaConfig& config, const at::Device& device, int64_t length) {
  const c10::InferenceMode not_inference(false);
  const at::NoGradGuard no_grad;
  const at::Tensor inv_freq = rope_inverse_frequencies(config, length, device);
  // Dynamic NTK beyond the trained context: new frequencies for every length, nothing to reuse.
  if (rope_depends_on_length(config, length)) return compute_rope_tables(inv_freq, length);

  static std::mutex mutex;
  static std::map<std::pair<std::string, std::vector<float>>, RopeTables> cache;
  const at::Tensor frequencies_cpu = inv_freq.cpu();
  const float* first = frequencies_cpu.data_ptr<float>();
  const std::lock_guard<std::mutex> lock(mutex);
  RopeTables& tables = cache[{device.str(), std::vector<float>(first, first + frequencies_cpu.numel())}];
  if (!tables.cos.defined() || tables.cos.size(0) < length) {
    // Grow geometrically so that token-by-token decoding does not recompute at every step.
    const int64_t grown = std::max<int64_t>(length, tables.cos.defined() ? 2 * tables.cos.size(0) : 0);
    tables = compute_rope_tables(inv_freq, grown);
  }
  return tables;
}

// x [batch, seq, heads, head_dim]; cos/sin [seq, 1, head_dim / 2]. Returns a new contiguous tensor.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor first = x.narrow(-1, 0, half);
  const at::Tensor second = x.narrow(-1, half, half);
  if (may_update_in_place()) {
    // Written half by half into one buffer: no rotate_half copy, no concatenation.
    at::Tensor rotated = at::empty(x.sizes(), x.options());
    at::Tensor rotated_first = rotated.narrow(-1, 0, half);
    at::Tensor rotated_second = rotated.narrow(-1, half, half);
    at::mul_out(rotated_first, first, cos).addcmul_(second, sin, -1);
    at::mul_out(rotated_second, second, cos).addcmul_(first, sin);
    return rotated;
  }
  return at::cat({first * cos - second * sin, second * cos + first * sin}, -1);
}

std::string layer_prefix(size_t index) { return "model.layers." + std::to_string(index) + "."; }

at::Tensor run_linear(const Linear& linear, const at::Tensor& input, const std::string& name,
                      const ForwardOptions& options) {
  if (options.observer != nullptr && *options.observer) (*options.observer)(name, input);
  return linear.forward(input);
}

struct AttentionContext {
  at::Tensor cos;             // [seq, 1, head_dim / 2] for the new positions (keys)
  at::Tensor sin;
  at::Tensor query_cos;       // the same times 1/√head_dim: queries come out of RoPE already scaled
  at::Tensor query_sin;
  at::Tensor upper_triangle;  // [kQueryChunk, kQueryChunk] bool, true above the diagonal
  int64_t past = 0;           // positions already in the KV cache
  int64_t head_dim = 0;
};

// Sets the scores of keys after each query's own position to float32's lowest value (as transformers'
// causal mask), so that softmax gives them exactly 0. scores [b, kv, group·rows, visible]: the
// chunk's rows see every key before the chunk, and within it only those up to their own position.
at::Tensor mask_future_keys(const at::Tensor& scores, const at::Tensor& upper_triangle, int64_t group, int64_t rows) {
  const int64_t visible = scores.size(-1);
  const at::Tensor within_chunk = upper_triangle.narrow(0, 0, rows).narrow(1, 0, rows);
  const at::Tensor grouped = scores.view({scores.size(0), scores.size(1), group, rows, visible});
  const float lowest = std::numeric_limits<float>::lowest();
  if (may_update_in_place()) {
    grouped.narrow(-1, visible - rows, rows).masked_fill_(within_chunk, lowest);
    return scores;
  }
  const at::Tensor mask = at::cat({at::zeros({rows, visible - rows}, within_chunk.options()), within_chunk}, 1);
  return grouped.masked_fill(mask, lowest).view(scores.sizes());
}

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

  const at::Tensor query =  // [batch, seq, heads, head_dim], scaled
      apply_rope(run_linear(*layer.q_proj, x, prefix + "q_proj", options).reshape({batch, seq, heads, head_dim}),
                 context.query_cos, context.query_sin);
  at::Tensor key =  // [batch, kv_heads, seq, head_dim]
      apply_rope(run_linear(*layer.k_proj, x, prefix + "k_proj", options).reshape({batch, seq, kv_heads, head_dim}),
                 context.cos, context.sin)
          .transpose(1, 2);
  at::Tensor value =
      run_linear(*layer.v_proj, x, prefix + "v_proj", options).reshape({batch, seq, kv_heads, head_dim}).transpose(1, 2);
  if (options.cache != nullptr && options.cache->keys[layer_index].defined()) {
    key = at::cat({options.cache->keys[layer_index], key}, 2);
    value = at::cat({options.cache->values[layer_index], value}, 2);
  } else {
    // Contiguous per head, so that every chunk below reads its keys/values as plain strided matrices.
    key = key.contiguous();
    value = value.contiguous();
  }
  if (options.cache != nullptr) {
    options.cache->keys[layer_index] = key;
    options.cache->values[layer_index] = value;
  }

  // Grouped-query attention without repeating keys/values: the `group` query heads that share one
  // key/value head are stacked along the rows, so each product is one GEMM per key/value head.
  const at::Tensor grouped_query = query.view({batch, seq, kv_heads, group, head_dim});
  std::vector<at::Tensor> chunk_outputs;
  for (int64_t start = 0; start < seq; start += kQueryChunk) {
    const int64_t rows = std::min(kQueryChunk, seq - start);
    const int64_t visible = context.past + start + rows;  // keys up to the chunk's last position
    const at::Tensor chunk_query =  // [batch, kv_heads, group·rows, head_dim]
        grouped_query.narrow(1, start, rows).permute({0, 2, 3, 1, 4}).reshape({batch, kv_heads, group * rows, head_dim});
    at::Tensor scores = at::matmul(chunk_query, key.narrow(2, 0, visible).transpose(2, 3));
    if (rows > 1) scores = mask_future_keys(scores, context.upper_triangle, group, rows);
    const at::Tensor probabilities = at::softmax(scores, -1);  // float32 throughout, as transformers
    chunk_outputs.push_back(at::matmul(probabilities, value.narrow(2, 0, visible))  // [b, kv, group·rows, d]
                                .view({batch, kv_heads, group, rows, head_dim})
                                .permute({0, 3, 1, 2, 4}));                           // [b, rows, kv, group, d]
  }
  const at::Tensor attended = at::cat(chunk_outputs, 1).view({batch, seq, heads * head_dim});
  return run_linear(*layer.o_proj, attended, prefix + "o_proj", options);
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

// Mistral attends only to the last `sliding_window` positions; within that many positions in all, that
// is every position, and the model is LLaMA.
void check_sliding_window(const LlamaConfig& config, int64_t positions) {
  if (config.sliding_window > 0 && positions > config.sliding_window)
    throw std::invalid_argument("the model attends to a sliding window of " + std::to_string(config.sliding_window) +
                                " positions (config.json \"sliding_window\"), and this forward reaches " +
                                std::to_string(positions) +
                                ": sliding-window attention is not implemented; use windows of at most " +
                                std::to_string(config.sliding_window) + " tokens");
}

AttentionContext attention_context(const LlamaConfig& config, const at::Device& device, int64_t past, int64_t seq) {
  AttentionContext context;
  context.head_dim = config.head_dim;
  context.past = past;
  check_sliding_window(config, past + seq);
  const RopeTables tables = rope_tables(config, device, past + seq);
  context.cos = tables.cos.narrow(0, past, seq).unsqueeze(1);  // broadcast over heads
  context.sin = tables.sin.narrow(0, past, seq).unsqueeze(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(config.head_dim));
  context.query_cos = context.cos * scale;
  context.query_sin = context.sin * scale;
  if (seq > 1) {
    const auto bool_options = at::TensorOptions().dtype(at::kBool).device(device);
    const int64_t chunk = std::min(seq, kQueryChunk);
    context.upper_triangle = at::ones({chunk, chunk}, bool_options).triu(1);
  }
  return context;
}

at::Tensor decoder_layer(const DecoderLayer& layer, size_t index, at::Tensor hidden, const AttentionContext& context,
                         double rms_norm_eps, const ForwardOptions& options) {
  // A sub-block pruned to nothing contributes nothing: the residual passes through unchanged.
  if (layer.shape.num_attention_heads > 0) {
    const at::Tensor normed = rms_norm(hidden, layer.input_layernorm, rms_norm_eps);
    hidden = hidden + attention(layer, index, normed, context, options);
  }
  if (layer.shape.intermediate_size > 0) {
    const at::Tensor normed = rms_norm(hidden, layer.post_attention_layernorm, rms_norm_eps);
    hidden = hidden + mlp(layer, index, normed, options);
  }
  return hidden;
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

  const AttentionContext context = attention_context(config, device, past, seq);
  at::Tensor hidden = at::embedding(embed_tokens, ids.to(device, at::kLong));
  for (size_t index = 0; index < layers.size(); ++index) {
    check_layer_shape(layers[index], index);
    if (options.hidden_states != nullptr) options.hidden_states->push_back(hidden);
    hidden = decoder_layer(layers[index], index, hidden, context, config.rms_norm_eps, options);
  }
  if (options.cache != nullptr) options.cache->length = past + seq;

  hidden = rms_norm(hidden, norm, config.rms_norm_eps);
  if (options.hidden_states != nullptr) options.hidden_states->push_back(hidden);
  if (!options.compute_logits) return hidden;
  if (lm_head) return run_linear(*lm_head, hidden, "lm_head", options);
  return at::linear(hidden, embed_tokens);  // tied word embeddings
}

at::Tensor LlamaModel::embed(const at::Tensor& ids) const { return at::embedding(embed_tokens, ids.to(device, at::kLong)); }

at::Tensor LlamaModel::forward_layer(size_t index, const at::Tensor& hidden, const ForwardOptions& options) const {
  if (index >= layers.size())
    throw std::invalid_argument("LlamaModel::forward_layer: layer " + std::to_string(index) + " of a model with " +
                                std::to_string(layers.size()) + " layers");
  if (hidden.dim() != 3 || hidden.size(2) != embed_tokens.size(1))
    throw std::invalid_argument("LlamaModel::forward_layer: hidden states must be [batch, seq, " +
                                std::to_string(embed_tokens.size(1)) + "], got " + c10::str(hidden.sizes()));
  if (options.cache != nullptr) throw std::invalid_argument("LlamaModel::forward_layer takes no KV cache");
  check_layer_shape(layers[index], index);
  return decoder_layer(layers[index], index, hidden, attention_context(config, device, 0, hidden.size(1)),
                       config.rms_norm_eps, options);
}

}  // namespace compactmind
