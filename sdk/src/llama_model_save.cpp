// LlamaModel::save: safetensors shards + config.json + generation_config.json + tokenizer files,
// written into a temporary sibling folder that is renamed into place only when complete.
#include "compactmind/llama_model.h"
#include "compactmind/safetensors.h"

#include "atomic_files.h"
#include "model_folder.h"

#include <stdexcept>

namespace compactmind {
namespace fs = std::filesystem;

namespace {

// What a Hugging Face model folder carries besides weights and config.json; copied as they are.
constexpr const char* kCompanionFiles[] = {"tokenizer.model",         "tokenizer.json", "tokenizer_config.json",
                                           "special_tokens_map.json", "added_tokens.json", "generation_config.json"};

// The real per-layer dims, read off the tensors (pruning may have changed them).
LayerShape measured_shape(const DecoderLayer& layer, int64_t layer_index, int64_t head_dim, int64_t hidden) {
  const std::string where = "cannot save: layer " + std::to_string(layer_index) + " ";
  const int64_t q_width = layer.q_proj->out_features();
  const int64_t kv_width = layer.k_proj->out_features();
  if (q_width % head_dim != 0 || kv_width % head_dim != 0)
    throw std::runtime_error(where + "has q_proj/k_proj widths " + std::to_string(q_width) + "/" +
                             std::to_string(kv_width) + ", not multiples of head_dim " + std::to_string(head_dim));
  const LayerShape shape{q_width / head_dim, kv_width / head_dim, layer.gate_proj->out_features()};
  const bool consistent = layer.v_proj->out_features() == kv_width && layer.o_proj->in_features() == q_width &&
                          layer.o_proj->out_features() == hidden && layer.up_proj->out_features() == shape.intermediate_size &&
                          layer.down_proj->in_features() == shape.intermediate_size &&
                          layer.down_proj->out_features() == hidden && shape.num_key_value_heads > 0 &&
                          shape.num_attention_heads % shape.num_key_value_heads == 0;
  if (!consistent)
    throw std::runtime_error(where + "has inconsistent shapes (q/k/v/o or gate/up/down disagree, or heads are not a "
                             "multiple of key/value heads)");
  return shape;
}

bool is_float(const at::Tensor& tensor) { return at::isFloatingType(tensor.scalar_type()); }

}  // namespace

namespace detail {

std::string dtype_config_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    default:
      throw std::runtime_error(std::string("cannot save float tensors as ") + c10::toString(dtype) +
                               "; choose float32, float16 or bfloat16");
  }
}

void write_model_companions(const fs::path& dir, const LlamaConfig& config, const fs::path& source_dir) {
  write_json_atomically(dir / "config.json", config.to_json());
  for (const char* name : kCompanionFiles)
    if (!source_dir.empty() && fs::exists(source_dir / name)) fs::copy_file(source_dir / name, dir / name);
  if (!fs::exists(dir / "generation_config.json"))
    write_json_atomically(dir / "generation_config.json", {{"_from_model_config", true},
                                                           {"bos_token_id", config.bos_token_id},
                                                           {"eos_token_id", config.eos_token_id}});
}

}  // namespace detail

void LlamaModel::save(const fs::path& dir, const SaveOptions& options) const {
  LlamaConfig saved = config;
  saved.storage_dtype = detail::dtype_config_name(options.float_dtype);
  saved.vocab_size = embed_tokens.size(0);
  saved.hidden_size = embed_tokens.size(1);
  saved.num_hidden_layers = int64_t(layers.size());
  saved.tie_word_embeddings = lm_head == nullptr;
  saved.layers.clear();
  for (size_t i = 0; i < layers.size(); ++i)
    saved.layers.push_back(measured_shape(layers[i], int64_t(i), config.head_dim, saved.hidden_size));

  // Float tensors are stored as options.float_dtype; integer ones (quantized weights) as they are.
  std::vector<SafetensorsEntry> entries;
  auto add = [&](const std::string& name, const at::Tensor& tensor) {
    entries.push_back(safetensors_entry(name, tensor, is_float(tensor) ? options.float_dtype : tensor.scalar_type()));
  };
  // Quantization scales ("weight_scale", ...) keep their own dtype: rounding them to float16 would
  // change what the reloaded int8 layers compute.
  auto is_scale = [](const std::string& suffix) {
    return suffix.size() >= 6 && suffix.compare(suffix.size() - 6, 6, "_scale") == 0;
  };
  auto add_linear = [&](const std::string& module, const Linear& linear) {
    for (const auto& [suffix, tensor] : linear.state()) {
      if (is_scale(suffix)) entries.push_back(safetensors_entry(module + "." + suffix, tensor, tensor.scalar_type()));
      else add(module + "." + suffix, tensor);
    }
  };
  add("model.embed_tokens.weight", embed_tokens);
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    const DecoderLayer& layer = layers[i];
    add(prefix + "input_layernorm.weight", layer.input_layernorm);
    add_linear(prefix + "self_attn.q_proj", *layer.q_proj);
    add_linear(prefix + "self_attn.k_proj", *layer.k_proj);
    add_linear(prefix + "self_attn.v_proj", *layer.v_proj);
    add_linear(prefix + "self_attn.o_proj", *layer.o_proj);
    add(prefix + "post_attention_layernorm.weight", layer.post_attention_layernorm);
    add_linear(prefix + "mlp.gate_proj", *layer.gate_proj);
    add_linear(prefix + "mlp.up_proj", *layer.up_proj);
    add_linear(prefix + "mlp.down_proj", *layer.down_proj);
  }
  add("model.norm.weight", norm);
  if (lm_head) add_linear("lm_head", *lm_head);

  detail::write_directory_atomically(dir, options.overwrite, source_dir, [&](const fs::path& partial) {
    write_safetensors_checkpoint(partial, entries, options.max_shard_bytes);
    detail::write_model_companions(partial, saved, source_dir);
  });
}

}  // namespace compactmind
