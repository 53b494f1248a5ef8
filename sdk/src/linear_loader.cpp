#include "linear_loader.h"

#include "compactmind/int8_linear.h"
#include "compactmind/w8a8_scheme.h"

#include <stdexcept>

namespace compactmind::detail {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

// A compressed-tensors W8A8 linear: int8 `weight` [out, in] + `weight_scale` ([out, 1] per channel,
// [1] per tensor), executed by Int8Linear on the CPU (oneDNN).
std::unique_ptr<Linear> load_int8_linear(const SafetensorsReader& checkpoint, const std::string& module_name,
                                         int64_t out_features, int64_t in_features, const std::string& why,
                                         const W8A8Scheme& scheme, const LoadOptions& options) {
  if (!options.device.is_cpu())
    throw std::runtime_error("'" + module_name + "' is a W8A8 (int8) linear, which runs on the CPU only (oneDNN); "
                             "load this model on the CPU");
  const std::string weight_name = module_name + ".weight";
  check_tensor_shape(checkpoint, weight_name, {out_features, in_features}, why);
  const auto& info = checkpoint.info(weight_name);
  if (info.dtype != at::kChar)
    throw std::runtime_error("tensor '" + weight_name + "' in '" + info.file.string() + "' is " + info.dtype_name +
                             ", but config.json's quantization_config (compressed-tensors W8A8) stores it as I8");
  const std::string scale_name = module_name + ".weight_scale";
  if (scheme.weight_quant == WeightQuant::kPerChannel)
    check_tensor_shape(checkpoint, scale_name, {out_features, 1}, "per-channel weight scales");
  else if (!checkpoint.contains(scale_name) || checkpoint.info(scale_name).shape.size() != 0)
    check_tensor_shape(checkpoint, scale_name, {1}, "one per-tensor weight scale");  // [1], or a scalar []
  return std::make_unique<Int8Linear>(checkpoint.load(weight_name, at::kChar), checkpoint.load(scale_name, at::kFloat),
                                      w8a8_linear_options(scheme, module_name), module_name);
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
  const auto scheme = read_w8a8_scheme(config.source, config_path);
  if (scheme && w8a8_quantizes(*scheme, module_name))
    return load_int8_linear(checkpoint, module_name, out_features, in_features, why, *scheme, options);
  const std::string weight_name = module_name + ".weight";
  check_tensor_shape(checkpoint, weight_name, {out_features, in_features}, why);
  const auto& info = checkpoint.info(weight_name);
  if (!at::isFloatingType(info.dtype))
    throw std::runtime_error("tensor '" + weight_name + "' in '" + info.file.string() + "' is " + info.dtype_name +
                             ", but config.json declares no quantization that stores linears that way");
  return std::make_unique<DenseLinear>(checkpoint.load(weight_name, at::kFloat, options.device));
}

}  // namespace compactmind::detail
