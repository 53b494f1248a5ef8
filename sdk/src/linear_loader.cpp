#include "linear_loader.h"

#include <stdexcept>

namespace compactmind::detail {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
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
                                    const LlamaConfig& /*config*/, const LoadOptions& options) {
  const std::string weight_name = module_name + ".weight";
  check_tensor_shape(checkpoint, weight_name, {out_features, in_features}, why);
  const auto& info = checkpoint.info(weight_name);
  if (!at::isFloatingType(info.dtype))
    throw std::runtime_error("tensor '" + weight_name + "' in '" + info.file.string() + "' is " + info.dtype_name +
                             ", but config.json declares no quantization that stores linears that way");
  return std::make_unique<DenseLinear>(checkpoint.load(weight_name, at::kFloat, options.device));
}

}  // namespace compactmind::detail
