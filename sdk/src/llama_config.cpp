// config.json ↔ LlamaConfig (both Hugging Face forms, plus the per-layer extension of
// docs/model-format.md).
#include "compactmind/llama_config.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace compactmind {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kLayersKey = "compactmind_layers";
constexpr double kDefaultRopeTheta = 10000.0;  // transformers' LlamaConfig default
// The per-layer table is allocated from num_hidden_layers before any tensor is read, so an absurd
// count (1e9) would take gigabytes; the deepest public LLaMA-family model has 126 layers.
constexpr int64_t kMaxLayers = 4096;

[[noreturn]] void fail(const fs::path& path, const std::string& problem) {
  throw std::runtime_error("config '" + path.string() + "': " + problem);
}

bool has_value(const json& object, const char* key) { return object.contains(key) && !object[key].is_null(); }

int64_t positive_int(const json& object, const char* key, const fs::path& path, const std::string& where = "") {
  if (!has_value(object, key)) fail(path, where + "\"" + key + "\" is missing");
  const json& value = object[key];
  if (!value.is_number_integer() || value.get<int64_t>() <= 0)
    fail(path, where + "\"" + key + "\" must be a positive integer, got " + value.dump());
  return value.get<int64_t>();
}

int64_t optional_positive_int(const json& object, const char* key, int64_t fallback, const fs::path& path) {
  return has_value(object, key) ? positive_int(object, key, path) : fallback;
}

// Token ids: an integer, or (Llama-3 style) a non-empty list of them.
std::vector<int64_t> token_ids(const json& object, const char* key, int64_t fallback, const fs::path& path) {
  if (!has_value(object, key)) return {fallback};
  const json& value = object[key];
  if (value.is_number_integer()) return {value.get<int64_t>()};
  bool all_integers = value.is_array() && !value.empty();
  for (const json& entry : value) all_integers = all_integers && entry.is_number_integer();
  if (all_integers) return value.get<std::vector<int64_t>>();
  fail(path, std::string("\"") + key + "\" must be an integer or a list of integers, got " + value.dump());
}

// The RoPE base and scaling from either form; transformers ≥ 5's "rope_parameters" wins over the
// legacy top-level keys.
void read_rope(const json& config, const fs::path& path, LlamaConfig& result) {
  double theta = kDefaultRopeTheta;
  if (has_value(config, "rope_theta")) {
    if (!config["rope_theta"].is_number()) fail(path, "\"rope_theta\" must be a number");
    theta = config["rope_theta"].get<double>();
  }
  if (has_value(config, "rope_scaling")) result.rope_scaling = parse_rope_scaling(config["rope_scaling"], "rope_scaling", path);
  if (has_value(config, "rope_parameters")) {
    const json& rope = config["rope_parameters"];
    result.rope_scaling = parse_rope_scaling(rope, "rope_parameters", path);
    if (has_value(rope, "rope_theta")) {
      if (!rope["rope_theta"].is_number()) fail(path, "\"rope_parameters.rope_theta\" must be a number");
      theta = rope["rope_theta"].get<double>();
    }
  }
  if (!(theta > 0)) fail(path, "the RoPE theta must be positive, got " + std::to_string(theta));
  result.rope_theta = theta;
}

// LLaMA, and the architectures that are LLaMA with other names: Mistral is the same layout plus a
// sliding attention window (checked against the context in the forward). Qwen2 adds biases to q/k/v,
// which CompactMind's linears do not have.
void check_architecture(const json& config, const fs::path& path) {
  if (!has_value(config, "model_type") || config["model_type"] == "llama" || config["model_type"] == "mistral") return;
  if (config["model_type"] == "qwen2")
    fail(path, "model_type \"qwen2\" is not supported: Qwen2 has biases on q/k/v (attention_bias), which "
               "CompactMind's LLaMA does not implement");
  fail(path, "model_type " + config["model_type"].dump() +
                 " is not supported; CompactMind runs LLaMA-architecture models (model_type \"llama\" or "
                 "\"mistral\")");
}

int64_t sliding_window_of(const json& config, const fs::path& path) {
  if (has_value(config, "use_sliding_window") && config["use_sliding_window"] == false) return 0;
  return has_value(config, "sliding_window") ? positive_int(config, "sliding_window", path) : 0;
}

std::string storage_dtype_of(const json& config, const fs::path& path) {
  for (const char* key : {"dtype", "torch_dtype"}) {
    if (!has_value(config, key)) continue;
    const json& value = config[key];
    if (value.is_string()) {
      const std::string dtype = value.get<std::string>();
      if (dtype == "float32" || dtype == "float16" || dtype == "bfloat16") return dtype;
    }
    fail(path, std::string("\"") + key + "\" is " + value.dump() + "; expected \"float32\", \"float16\" or \"bfloat16\"");
  }
  return "float32";  // transformers' default when the key is absent
}

void check_layer(const LayerShape& layer, const fs::path& path, const std::string& where) {
  if (layer.num_attention_heads % layer.num_key_value_heads != 0)
    fail(path, where + "num_attention_heads " + std::to_string(layer.num_attention_heads) +
                   " is not a multiple of num_key_value_heads " + std::to_string(layer.num_key_value_heads));
}

}  // namespace

LlamaConfig LlamaConfig::from_json(const json& config, const fs::path& path) {
  if (!config.is_object()) fail(path, "not a JSON object");
  check_architecture(config, path);
  if (has_value(config, "hidden_act") && config["hidden_act"] != "silu")
    fail(path, "hidden_act " + config["hidden_act"].dump() + " is not supported (LLaMA's SwiGLU uses \"silu\")");
  for (const char* key : {"attention_bias", "mlp_bias"})
    if (has_value(config, key) && config[key] == true)
      fail(path, std::string("\"") + key + "\" is true; CompactMind's LLaMA has no linear biases");

  LlamaConfig result;
  result.source = config;
  result.vocab_size = positive_int(config, "vocab_size", path);
  result.hidden_size = positive_int(config, "hidden_size", path);
  result.intermediate_size = positive_int(config, "intermediate_size", path);
  result.num_hidden_layers = positive_int(config, "num_hidden_layers", path);
  if (result.num_hidden_layers > kMaxLayers)
    fail(path, "\"num_hidden_layers\" is " + std::to_string(result.num_hidden_layers) + ", beyond any real model (at most " +
                   std::to_string(kMaxLayers) + " here)");
  result.num_attention_heads = positive_int(config, "num_attention_heads", path);
  result.num_key_value_heads = optional_positive_int(config, "num_key_value_heads", result.num_attention_heads, path);
  if (has_value(config, "head_dim")) {
    result.head_dim = positive_int(config, "head_dim", path);
  } else {
    if (result.hidden_size % result.num_attention_heads != 0)
      fail(path, "no \"head_dim\", and hidden_size " + std::to_string(result.hidden_size) +
                     " is not a multiple of num_attention_heads " + std::to_string(result.num_attention_heads));
    result.head_dim = result.hidden_size / result.num_attention_heads;
  }
  result.max_position_embeddings = optional_positive_int(config, "max_position_embeddings", 2048, path);
  if (has_value(config, "rms_norm_eps")) {
    if (!config["rms_norm_eps"].is_number() || !(config["rms_norm_eps"].get<double>() > 0))
      fail(path, "\"rms_norm_eps\" must be a positive number, got " + config["rms_norm_eps"].dump());
    result.rms_norm_eps = config["rms_norm_eps"].get<double>();
  }
  read_rope(config, path, result);
  result.sliding_window = sliding_window_of(config, path);
  if (has_value(config, "tie_word_embeddings")) {
    if (!config["tie_word_embeddings"].is_boolean()) fail(path, "\"tie_word_embeddings\" must be true or false");
    result.tie_word_embeddings = config["tie_word_embeddings"].get<bool>();
  }
  result.bos_token_id = token_ids(config, "bos_token_id", result.bos_token_id, path).front();
  result.eos_token_ids = token_ids(config, "eos_token_id", result.eos_token_id, path);
  result.eos_token_id = result.eos_token_ids.front();
  result.storage_dtype = storage_dtype_of(config, path);

  const LayerShape uniform{result.num_attention_heads, result.num_key_value_heads, result.intermediate_size};
  check_layer(uniform, path, "");
  if (has_value(config, kLayersKey)) {
    const json& layers = config[kLayersKey];
    if (!layers.is_array() || int64_t(layers.size()) != result.num_hidden_layers)
      fail(path, std::string("\"") + kLayersKey + "\" must be a list of " + std::to_string(result.num_hidden_layers) +
                     " layer objects (one per decoder layer)");
    for (size_t i = 0; i < layers.size(); ++i) {
      const std::string where = std::string(kLayersKey) + "[" + std::to_string(i) + "]: ";
      if (!layers[i].is_object()) fail(path, where + "not an object");
      LayerShape layer;
      layer.num_attention_heads = positive_int(layers[i], "num_attention_heads", path, where);
      layer.num_key_value_heads = positive_int(layers[i], "num_key_value_heads", path, where);
      layer.intermediate_size = positive_int(layers[i], "intermediate_size", path, where);
      check_layer(layer, path, where);
      result.layers.push_back(layer);
    }
  } else {
    result.layers.assign(size_t(result.num_hidden_layers), uniform);
  }
  return result;
}

LlamaConfig LlamaConfig::load(const fs::path& config_json_path) {
  std::ifstream stream(config_json_path);
  if (!stream) throw std::runtime_error("cannot read config '" + config_json_path.string() + "'");
  json config;
  try {
    config = json::parse(stream);
  } catch (const json::exception& error) {  // parse_error, and out_of_range for a number like 1e400
    fail(config_json_path, std::string("not valid JSON (") + error.what() + ")");
  }
  return from_json(config, config_json_path);
}

bool LlamaConfig::is_uniform() const {
  const LayerShape uniform{num_attention_heads, num_key_value_heads, intermediate_size};
  for (const auto& layer : layers)
    if (!(layer == uniform)) return false;
  return true;
}

bool LlamaConfig::is_eos(int64_t token) const {
  return token == eos_token_id || std::find(eos_token_ids.begin(), eos_token_ids.end(), token) != eos_token_ids.end();
}

json LlamaConfig::to_json() const {
  json config = source.is_object() ? source : json::object();
  if (!config.contains("architectures")) config["architectures"] = {"LlamaForCausalLM"};
  if (config.value("model_type", "") != "mistral") config["model_type"] = "llama";
  if (!config.contains("hidden_act")) config["hidden_act"] = "silu";
  config["vocab_size"] = vocab_size;
  config["hidden_size"] = hidden_size;
  config["num_hidden_layers"] = num_hidden_layers;
  config["head_dim"] = head_dim;  // always explicit: after pruning heads, hidden/heads would be wrong
  config["max_position_embeddings"] = max_position_embeddings;
  config["rms_norm_eps"] = rms_norm_eps;
  config["tie_word_embeddings"] = tie_word_embeddings;
  // A list of ids (Llama-3) stays as it was; we only track its first entry.
  if (!config.contains("bos_token_id") || !config["bos_token_id"].is_array()) config["bos_token_id"] = bos_token_id;
  if (!config.contains("eos_token_id") || !config["eos_token_id"].is_array()) config["eos_token_id"] = eos_token_id;

  // Keep the form the source used; a config made from scratch gets the transformers-5 form.
  const bool legacy_dtype = config.contains("torch_dtype") && !config.contains("dtype");
  config[legacy_dtype ? "torch_dtype" : "dtype"] = storage_dtype;
  // Older configs carry RoPE at the top level (or not at all: Llama-2 has neither key).
  const bool legacy_rope = !config.contains("rope_parameters") &&
                           (config.contains("rope_theta") || config.contains("rope_scaling") || legacy_dtype);
  if (legacy_rope) {
    config["rope_theta"] = rope_theta;
  } else {
    json rope = has_value(config, "rope_parameters") ? config["rope_parameters"] : json::object();
    rope["rope_theta"] = rope_theta;
    rope["rope_type"] = rope_scaling.type;
    if (rope_scaling.type != "default") rope["factor"] = rope_scaling.factor;
    if (rope_scaling.type == "llama3") {
      rope["low_freq_factor"] = rope_scaling.low_freq_factor;
      rope["high_freq_factor"] = rope_scaling.high_freq_factor;
      rope["original_max_position_embeddings"] = rope_scaling.original_max_position_embeddings;
    }
    config["rope_parameters"] = rope;
  }

  // All layers alike (unpruned, or pruned evenly): the standard form any LLaMA loader reads.
  // Otherwise the top level keeps the uniform dims and the real ones go to the extension.
  bool layers_alike = !layers.empty();
  for (const auto& layer : layers) layers_alike = layers_alike && layer == layers.front();
  const LayerShape top = layers_alike ? layers.front()
                                      : LayerShape{num_attention_heads, num_key_value_heads, intermediate_size};
  config["num_attention_heads"] = top.num_attention_heads;
  config["num_key_value_heads"] = top.num_key_value_heads;
  config["intermediate_size"] = top.intermediate_size;
  config.erase(kLayersKey);
  if (!layers_alike) {
    json per_layer = json::array();
    for (const auto& layer : layers)
      per_layer.push_back({{"num_attention_heads", layer.num_attention_heads},
                           {"num_key_value_heads", layer.num_key_value_heads},
                           {"intermediate_size", layer.intermediate_size}});
    config[kLayersKey] = per_layer;
  }
  return config;
}

}  // namespace compactmind
