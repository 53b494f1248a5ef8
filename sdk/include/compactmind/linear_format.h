// Linear formats: how a quantized (or otherwise non-float) linear layer is stored in a checkpoint
// and rebuilt from it. A checkpoint names its format in config.json, the way compressed-tensors
// does: "quantization_config": {"quant_method": "compressed-tensors", "format": "<name>", ...}.
// LlamaModel::load looks the name up here; a model whose format nobody registered fails to load
// naming the format (and the plugin that wrote it, when config.json records it).
//
// A format is the pair of
//   - a Linear subclass (linear.h): its forward, state() (the tensors saved under the layer's name),
//     stored_bytes() and clone() — the saving half, and
//   - a LinearFormat registered here: its name (the config.json "format" value) and load() — the
//     loading half.
// The method that creates such layers also writes config.json's quantization_config into
// `model.config.source` (LlamaModel::save writes `source` back). The SDK registers two formats
// itself: "int-quantized" (W8A8, int8_linear.h) and "pack-quantized" (packed int2/3/4/8 weights,
// packed_linear.h). A plugin registers its own with COMPACTMIND_REGISTER_LINEAR_FORMAT.
// docs/plugin-authoring.md, section "Your own linear format", is the written contract.
#pragma once

#include "compactmind/linear.h"
#include "compactmind/llama_model.h"
#include "compactmind/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace compactmind {

// What a format needs to rebuild one linear. Shapes come from config.json; `why` says which config
// values imply them (quote it in shape errors, as check_linear_tensor does).
struct LinearLoadRequest {
  const SafetensorsReader& checkpoint;
  std::string module_name;  // HF name, e.g. "model.layers.3.self_attn.q_proj"
  int64_t out_features = 0;
  int64_t in_features = 0;
  std::string why;
  const nlohmann::json& quantization_config;  // config.json's "quantization_config" object
  std::string config_path;                    // config.json, for messages
  LoadOptions options;
};

// Throws naming the file when `name` is missing from `checkpoint` or has another shape than `shape`.
void check_linear_tensor(const LinearLoadRequest& request, const std::string& name,
                         const std::vector<int64_t>& shape, const std::string& why);

class LinearFormat {
 public:
  virtual ~LinearFormat() = default;
  // The config.json quantization_config "format" value this format reads, e.g. "pack-quantized".
  virtual std::string name() const = 0;
  // Builds the layer `request.module_name` from its tensors. Called only for modules that the
  // config's "ignore" list does not exclude (those load as float DenseLinear). Throws
  // std::runtime_error naming the tensor and file on anything it cannot read.
  virtual std::unique_ptr<Linear> load(const LinearLoadRequest& request) const = 0;
};

// Registers `format`, provided by `provider` (a plugin name, or "compactmind-sdk"). Registering a
// name twice throws std::invalid_argument naming both providers. Formats stay registered for the
// life of the process (plugin libraries are never unloaded).
void register_linear_format(std::shared_ptr<const LinearFormat> format, const std::string& provider);
// register_linear_format for a static initializer: never throws; logs the error and returns false.
bool register_linear_format_at_load(const std::function<std::shared_ptr<const LinearFormat>()>& make,
                                    const std::string& provider) noexcept;
// The format registered under `name`, or null.
const LinearFormat* find_linear_format(const std::string& name);
// "name (provider)" of every registered format, sorted by name.
std::vector<std::string> registered_linear_formats();

// The key under quantization_config where CompactMind records what compressed-tensors cannot say
// (e.g. which plugin wrote the format: {"compactmind": {"format_provider": "gptq"}}).
constexpr const char* kQuantizationConfigOwnKey = "compactmind";
// Sets quantization_config.compactmind.format_provider, so that loading without that plugin names it.
void record_format_provider(nlohmann::json& quantization_config, const std::string& provider);

}  // namespace compactmind

// Registers `FormatClass` (a default-constructible LinearFormat) when the plugin library is loaded
// (a static initializer: nothing may throw out of it, so a failure is logged as an error instead).
#define COMPACTMIND_REGISTER_LINEAR_FORMAT(FormatClass, kProvider)                                  \
  namespace {                                                                                       \
  const bool cm_linear_format_registered_##FormatClass =                                            \
      ::compactmind::register_linear_format_at_load([] { return std::make_shared<FormatClass>(); }, \
                                                    kProvider);                                     \
  }
