#include "compactmind/random_model.h"
#include "compactmind/safetensors.h"

#include "atomic_files.h"
#include "model_folder.h"

#include <ATen/CPUGeneratorImpl.h>


namespace compactmind {
namespace fs = std::filesystem;

namespace {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  bool is_norm;  // RMSNorm weight: ones, not random
};

// Every tensor of a Hugging Face LLaMA checkpoint for `config`, in the order transformers writes them.
std::vector<TensorSpec> tensor_specs(const LlamaConfig& config) {
  const int64_t hidden = config.hidden_size;
  std::vector<TensorSpec> specs{{"model.embed_tokens.weight", {config.vocab_size, hidden}, false}};
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const LayerShape& shape = config.layers[size_t(i)];
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    const int64_t q_width = shape.num_attention_heads * config.head_dim;
    const int64_t kv_width = shape.num_key_value_heads * config.head_dim;
    specs.push_back({prefix + "input_layernorm.weight", {hidden}, true});
    specs.push_back({prefix + "self_attn.q_proj.weight", {q_width, hidden}, false});
    specs.push_back({prefix + "self_attn.k_proj.weight", {kv_width, hidden}, false});
    specs.push_back({prefix + "self_attn.v_proj.weight", {kv_width, hidden}, false});
    specs.push_back({prefix + "self_attn.o_proj.weight", {hidden, q_width}, false});
    specs.push_back({prefix + "post_attention_layernorm.weight", {hidden}, true});
    specs.push_back({prefix + "mlp.gate_proj.weight", {shape.intermediate_size, hidden}, false});
    specs.push_back({prefix + "mlp.up_proj.weight", {shape.intermediate_size, hidden}, false});
    specs.push_back({prefix + "mlp.down_proj.weight", {hidden, shape.intermediate_size}, false});
  }
  specs.push_back({"model.norm.weight", {hidden}, true});
  if (!config.tie_word_embeddings) specs.push_back({"lm_head.weight", {config.vocab_size, hidden}, false});
  return specs;
}

// FNV-1a of the name (fixed, unlike std::hash, so checkpoints are the same on every platform), mixed
// with the seed by splitmix64's finaliser (Steele et al. 2014): an independent stream per tensor.
uint64_t tensor_seed(uint64_t seed, const std::string& name) {
  uint64_t name_hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) name_hash = (name_hash ^ c) * 0x100000001b3ULL;
  uint64_t z = seed ^ (name_hash + 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

at::Tensor generate(const TensorSpec& spec, uint64_t seed, double weight_std) {
  const auto options = at::TensorOptions().dtype(at::kFloat);
  if (spec.is_norm) return at::ones(spec.shape, options);
  at::Generator generator = at::detail::createCPUGenerator(tensor_seed(seed, spec.name));
  return at::normal(0.0, weight_std, spec.shape, generator, options);
}

}  // namespace

LlamaModel random_llama_model(const LlamaConfig& config, uint64_t seed, double weight_std, at::Device device) {
  std::map<std::string, at::Tensor> tensors;
  for (const auto& spec : tensor_specs(config)) tensors[spec.name] = generate(spec, seed, weight_std).to(device);
  auto linear = [&](const std::string& name) { return std::make_unique<DenseLinear>(tensors.at(name + ".weight")); };

  LlamaModel model;
  model.config = config;
  model.device = device;
  model.embed_tokens = tensors.at("model.embed_tokens.weight");
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    DecoderLayer layer;
    layer.shape = config.layers[size_t(i)];
    layer.input_layernorm = tensors.at(prefix + "input_layernorm.weight");
    layer.q_proj = linear(prefix + "self_attn.q_proj");
    layer.k_proj = linear(prefix + "self_attn.k_proj");
    layer.v_proj = linear(prefix + "self_attn.v_proj");
    layer.o_proj = linear(prefix + "self_attn.o_proj");
    layer.post_attention_layernorm = tensors.at(prefix + "post_attention_layernorm.weight");
    layer.gate_proj = linear(prefix + "mlp.gate_proj");
    layer.up_proj = linear(prefix + "mlp.up_proj");
    layer.down_proj = linear(prefix + "mlp.down_proj");
    model.layers.push_back(std::move(layer));
  }
  model.norm = tensors.at("model.norm.weight");
  if (!config.tie_word_embeddings) model.lm_head = linear("lm_head");
  return model;
}

void write_random_llama_model(const LlamaConfig& config, const fs::path& out_dir, const RandomModelOptions& options) {
  LlamaConfig saved = config;
  saved.storage_dtype = detail::dtype_config_name(options.float_dtype);
  std::vector<SafetensorsEntry> entries;
  for (const auto& spec : tensor_specs(config))
    entries.push_back({spec.name, options.float_dtype, spec.shape,
                       [spec, &options] { return generate(spec, options.seed, options.weight_std); }});
  detail::write_directory_atomically(out_dir, options.overwrite, {}, [&](const fs::path& partial) {
    write_safetensors_checkpoint(partial, entries, options.max_shard_bytes);
    detail::write_model_companions(partial, saved, options.tokenizer_from);
  });
}

}  // namespace compactmind
