// LlamaModel::load: config.json + safetensors (one file or shards) → float32 tensors on a device.
#include "compactmind/llama_model.h"
#include "compactmind/log.h"
#include "compactmind/safetensors.h"

#include "linear_loader.h"
#include "model_folder_check.h"

#include <set>
#include <stdexcept>

namespace compactmind {
namespace fs = std::filesystem;

namespace {

std::string dims(const char* name, int64_t value) { return std::string(name) + " " + std::to_string(value); }

// Loads a norm or embedding tensor after checking its shape.
at::Tensor load_float(const SafetensorsReader& checkpoint, const std::string& name, const std::vector<int64_t>& shape,
                      const std::string& why, const LoadOptions& options) {
  detail::check_tensor_shape(checkpoint, name, shape, why);
  return checkpoint.load(name, at::kFloat, options.device);
}

// Tensors nobody reads are worth a warning (a different architecture, or a mislabelled file), except
// RoPE caches that older checkpoints stored although they are recomputed.
void warn_unused(const SafetensorsReader& checkpoint, const std::vector<std::string>& used_prefixes) {
  std::vector<std::string> unused;
  for (const auto& name : checkpoint.names()) {
    if (name.find("rotary_emb.inv_freq") != std::string::npos) continue;
    bool used = false;
    for (const auto& prefix : used_prefixes) used = used || name.rfind(prefix, 0) == 0;
    if (!used) unused.push_back(name);
  }
  if (!unused.empty())
    log_warn("checkpoint '" + checkpoint.path().string() + "': ignoring " + std::to_string(unused.size()) +
             " tensor(s) a LLaMA model does not use, e.g. '" + unused.front() + "'");
}

}  // namespace

LlamaModel LlamaModel::load(const fs::path& dir, const LoadOptions& options) {
  detail::check_model_folder_before_loading(dir);
  if (!fs::is_directory(dir)) {
    refuse_pickle_checkpoint(dir);
    throw std::runtime_error("model folder '" + dir.string() + "' does not exist or is not a folder");
  }
  if (!fs::exists(dir / "config.json")) {
    refuse_pickle_checkpoint(dir);
    throw std::runtime_error("model folder '" + dir.string() + "' has no config.json");
  }
  LlamaModel model;
  model.config = LlamaConfig::load(dir / "config.json");
  model.device = options.device;
  model.source_dir = dir;
  const LlamaConfig& config = model.config;
  const SafetensorsReader checkpoint = SafetensorsReader::open(dir);

  const int64_t hidden = config.hidden_size;
  std::vector<std::string> used_prefixes;
  auto norm = [&](const std::string& name) {
    used_prefixes.push_back(name);
    return load_float(checkpoint, name, {hidden}, dims("hidden_size", hidden), options);
  };
  auto linear = [&](const std::string& module, int64_t out_features, int64_t in_features, const std::string& why) {
    used_prefixes.push_back(module + ".");
    return detail::load_linear(checkpoint, module, out_features, in_features, why, config, options);
  };

  used_prefixes.push_back("model.embed_tokens.weight");
  model.embed_tokens = load_float(checkpoint, "model.embed_tokens.weight", {config.vocab_size, hidden},
                                  dims("vocab_size", config.vocab_size) + ", " + dims("hidden_size", hidden), options);
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const LayerShape& shape = config.layers[size_t(i)];
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    const int64_t q_width = shape.num_attention_heads * config.head_dim;
    const int64_t kv_width = shape.num_key_value_heads * config.head_dim;
    const std::string q_why = dims("num_attention_heads", shape.num_attention_heads) + " × " +
                              dims("head_dim", config.head_dim) + ", " + dims("hidden_size", hidden);
    const std::string kv_why = dims("num_key_value_heads", shape.num_key_value_heads) + " × " +
                               dims("head_dim", config.head_dim) + ", " + dims("hidden_size", hidden);
    const std::string mlp_why = dims("intermediate_size", shape.intermediate_size) + ", " + dims("hidden_size", hidden);

    DecoderLayer layer;
    layer.shape = shape;
    layer.input_layernorm = norm(prefix + "input_layernorm.weight");
    layer.q_proj = linear(prefix + "self_attn.q_proj", q_width, hidden, q_why);
    layer.k_proj = linear(prefix + "self_attn.k_proj", kv_width, hidden, kv_why);
    layer.v_proj = linear(prefix + "self_attn.v_proj", kv_width, hidden, kv_why);
    layer.o_proj = linear(prefix + "self_attn.o_proj", hidden, q_width, q_why);
    layer.post_attention_layernorm = norm(prefix + "post_attention_layernorm.weight");
    layer.gate_proj = linear(prefix + "mlp.gate_proj", shape.intermediate_size, hidden, mlp_why);
    layer.up_proj = linear(prefix + "mlp.up_proj", shape.intermediate_size, hidden, mlp_why);
    layer.down_proj = linear(prefix + "mlp.down_proj", hidden, shape.intermediate_size, mlp_why);
    model.layers.push_back(std::move(layer));
  }
  model.norm = norm("model.norm.weight");
  // Tied: the logits reuse embed_tokens (a stored lm_head.weight, if any, is a copy and is ignored).
  if (config.tie_word_embeddings) {
    used_prefixes.push_back("lm_head.");
  } else {
    if (!checkpoint.contains("lm_head.weight"))
      throw std::runtime_error("checkpoint '" + checkpoint.path().string() +
                               "' has no tensor 'lm_head.weight', and config.json says tie_word_embeddings is "
                               "false, so the model needs one");
    model.lm_head = linear("lm_head", config.vocab_size, hidden,
                           dims("vocab_size", config.vocab_size) + ", " + dims("hidden_size", hidden));
  }
  warn_unused(checkpoint, used_prefixes);
  return model;
}

}  // namespace compactmind
