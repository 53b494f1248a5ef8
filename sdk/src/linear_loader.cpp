#include "linear_loader.h"

#include "compactmind/linear_format.h"

#include <regex>
#include <stdexcept>

namespace compactmind::detail {

namespace {

using nlohmann::json;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

// compressed-tensors' "ignore": modules left in float, exact names or "re:<regex>".
bool ignored(const json& quantization_config, const std::string& module_name) {
  const auto found = quantization_config.find("ignore");
  if (found == quantization_config.end() || !found->is_array()) return false;
  for (const json& entry : *found) {
    if (!entry.is_string()) continue;
    const std::string& text = entry.get_ref<const std::string&>();
    if (text.rfind("re:", 0) == 0) {
      if (std::regex_match(module_name, std::regex(text.substr(3)))) return true;
    } else if (text == module_name) {
      return true;
    }
  }
  return false;
}

// The registered format that reads `quantization_config`; throws naming the format, the formats this
// process has, and the plugin that wrote it when config.json records one.
const LinearFormat& format_of(const json& quantization_config, const std::string& config_path) {
  if (!quantization_config.is_object())
    throw std::runtime_error("'" + config_path + "': quantization_config is not an object");
  const std::string method = quantization_config.value("quant_method", std::string());
  if (method != "compressed-tensors")
    throw std::runtime_error("'" + config_path + "': quantization_config has quant_method '" + method +
                             "'; CompactMind reads only compressed-tensors checkpoints");
  const json format_value = quantization_config.value("format", json());
  if (!format_value.is_string())
    throw std::runtime_error("'" + config_path + "': quantization_config has no \"format\" string");
  const std::string name = format_value.get<std::string>();
  if (const LinearFormat* format = find_linear_format(name)) return *format;
  std::string installed;
  for (const std::string& entry : registered_linear_formats()) installed += (installed.empty() ? "" : ", ") + entry;
  std::string message = "'" + config_path + "': linear format '" + name + "' is not installed (installed: " +
                        installed + ")";
  const json own = quantization_config.value(kQuantizationConfigOwnKey, json::object());
  if (own.is_object() && own.contains("format_provider") && own["format_provider"].is_string())
    message += "; it is provided by plugin '" + own["format_provider"].get<std::string>() +
               "': load that plugin (--plugin-dir) before loading this model";
  throw std::runtime_error(message);
}

}  // namespace

void check_tensor_shape(const SafetensorsReader& checkpoint, const std::string& name,
                        const std::vector<int64_t>& expected, const std::string& why) {
  if (!checkpoint.contains(name))
    throw std::runtime_error("checkpoint '" + checkpoint.path().string() + "' has no tensor '" + name +
                             "', which the model needs (" + why + ")");
  const auto& info = checkpoint.info(name);
  if (info.shape != expected)
    throw std::runtime_error("tensor '" + name + "' in '" + info.file.string() + "': shape " + shape_text(info.shape) +
                             ", but config.json implies " + shape_text(expected) + " (" + why + ")");
}

std::unique_ptr<Linear> load_linear(const SafetensorsReader& checkpoint, const std::string& module_name,
                                    int64_t out_features, int64_t in_features, const std::string& why,
                                    const LlamaConfig& config, const LoadOptions& options) {
  const std::string config_path = (checkpoint.path().parent_path() / "config.json").string();
  const auto quantization = config.source.find("quantization_config");
  const bool quantized = quantization != config.source.end() && !quantization->is_null();
  if (quantized && !ignored(*quantization, module_name)) {
    const LinearFormat& format = format_of(*quantization, config_path);
    const LinearLoadRequest request{checkpoint, module_name, out_features, in_features, why,
                                    *quantization, config_path, options};
    return format.load(request);
  }
  const std::string weight_name = module_name + ".weight";
  check_tensor_shape(checkpoint, weight_name, {out_features, in_features}, why);
  const auto& info = checkpoint.info(weight_name);
  if (!at::isFloatingType(info.dtype))
    throw std::runtime_error("tensor '" + weight_name + "' in '" + info.file.string() + "' is " + info.dtype_name +
                             ", but config.json declares no quantization that stores linears that way");
  return std::make_unique<DenseLinear>(checkpoint.load(weight_name, at::kFloat, options.device));
}

}  // namespace compactmind::detail

namespace compactmind {

void check_linear_tensor(const LinearLoadRequest& request, const std::string& name,
                         const std::vector<int64_t>& shape, const std::string& why) {
  detail::check_tensor_shape(request.checkpoint, name, shape, why);
}

}  // namespace compactmind
