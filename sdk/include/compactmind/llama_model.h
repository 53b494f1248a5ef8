// The LLaMA decoder-only model every compression method acts on. Plain structs of tensors rather than
// torch::nn::Modules: structured pruning reshapes tensors and quantization swaps layer
// representations, which registered-parameter modules make awkward; trainable_parameters() gives the
// optimiser what it needs.
#pragma once

#include "compactmind/linear.h"
#include "compactmind/llama_config.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace compactmind {

struct DecoderLayer {
  at::Tensor input_layernorm;           // RMSNorm weight [hidden]
  std::unique_ptr<Linear> q_proj;       // [heads·head_dim, hidden]
  std::unique_ptr<Linear> k_proj;       // [kv_heads·head_dim, hidden]
  std::unique_ptr<Linear> v_proj;       // [kv_heads·head_dim, hidden]
  std::unique_ptr<Linear> o_proj;       // [hidden, heads·head_dim]
  at::Tensor post_attention_layernorm;  // RMSNorm weight [hidden]
  std::unique_ptr<Linear> gate_proj;    // [intermediate, hidden]
  std::unique_ptr<Linear> up_proj;      // [intermediate, hidden]
  std::unique_ptr<Linear> down_proj;    // [hidden, intermediate]
  LayerShape shape;                     // this layer's own head counts and MLP width
};

// Keys and values of past positions for incremental decoding, one entry per layer,
// each [batch, kv_heads, past_len, head_dim].
struct KVCache {
  std::vector<at::Tensor> keys;
  std::vector<at::Tensor> values;
  int64_t length = 0;
};

// Called with the input of a linear during forward, e.g. for calibration statistics.
// `linear_name` is the HF module name, e.g. "model.layers.3.self_attn.q_proj".
using LinearInputObserver = std::function<void(const std::string& linear_name, const at::Tensor& input)>;

struct ForwardOptions {
  KVCache* cache = nullptr;                           // read and extended when set
  std::vector<at::Tensor>* hidden_states = nullptr;   // as transformers' output_hidden_states
  const LinearInputObserver* observer = nullptr;
  bool compute_logits = true;                         // false: returns the final-norm hidden states
};

struct LoadOptions {
  at::Device device = at::kCPU;
};

struct SaveOptions {
  at::ScalarType float_dtype = at::kHalf;  // dtype of float tensors in the checkpoint
  int64_t max_shard_bytes = int64_t(2) << 30;
  bool overwrite = false;  // replace a model folder already there (save_target.h: never anything else)
};

class LlamaModel {
 public:
  LlamaConfig config;
  at::Tensor embed_tokens;           // [vocab, hidden]
  std::vector<DecoderLayer> layers;
  at::Tensor norm;                   // final RMSNorm weight [hidden]
  std::unique_ptr<Linear> lm_head;   // null when the config ties it to embed_tokens
  at::Device device = at::kCPU;
  std::filesystem::path source_dir;  // where it was loaded from (tokenizer files are copied on save)

  // Loads a Hugging Face checkpoint folder (config.json + safetensors, sharded or not), weights
  // upcast to float32. Every validation error names the file and the tensor.
  static LlamaModel load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // Writes safetensors shards + config + tokenizer files atomically (temporary folder, then rename),
  // to a folder check_save_target(dir, options.overwrite, source_dir) accepts (save_target.h).
  void save(const std::filesystem::path& dir, const SaveOptions& options = {}) const;
  LlamaModel clone() const;  // deep copy of every tensor
  void to(at::Device device);

  // ids [batch, seq] int64 → logits [batch, seq, vocab] float32 (or hidden states, see options).
  at::Tensor forward(const at::Tensor& ids, const ForwardOptions& options = {}) const;

  // The pieces of forward, for layer-by-layer calibration (sequential_calibration.h): the token
  // embeddings [batch, seq, hidden] of `ids`, and decoder layer `index` applied to hidden states
  // [batch, seq, hidden] at positions 0..seq-1 (observer honoured; no cache).
  at::Tensor embed(const at::Tensor& ids) const;
  at::Tensor forward_layer(size_t index, const at::Tensor& hidden, const ForwardOptions& options = {}) const;

  // Every linear with its HF module name, decoder layers in order then lm_head (if untied).
  std::vector<std::pair<std::string, Linear*>> named_linears();
  std::vector<std::pair<std::string, const Linear*>> named_linears() const;

  // The same, as the owning slots, so a method can swap a layer's representation:
  // `*slot = std::make_unique<MyLinear>(...)` (linear_slots.cpp).
  std::vector<std::pair<std::string, std::unique_ptr<Linear>*>> named_linear_slots();

  int64_t parameter_count() const;
  // Bytes of every tensor as the model would be saved with `float_dtype` (the size objective).
  int64_t stored_bytes(at::ScalarType float_dtype) const;
  // Embeddings, norms and dense linear weights (what full fine-tuning trains).
  std::vector<at::Tensor> trainable_parameters();
};

}  // namespace compactmind
