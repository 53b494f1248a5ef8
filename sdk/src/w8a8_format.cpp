// The built-in "int-quantized" linear format: a compressed-tensors W8A8 linear, int8 `weight`
// [out, in] + `weight_scale` ([out, 1] per channel, [1] per tensor), executed by Int8Linear on the
// CPU (oneDNN). The scheme (granularities, quantized BMM inputs) comes from w8a8_scheme.h.
#include "compactmind/int8_linear.h"
#include "compactmind/w8a8_scheme.h"

#include "builtin_linear_formats.h"

#include <stdexcept>

namespace compactmind::detail {
namespace {

class W8A8Format final : public LinearFormat {
 public:
  std::string name() const override { return "int-quantized"; }

  std::unique_ptr<Linear> load(const LinearLoadRequest& request) const override {
    const std::string& module_name = request.module_name;
    const nlohmann::json whole_config = {{"quantization_config", request.quantization_config}};
    const W8A8Scheme scheme = *read_w8a8_scheme(whole_config, request.config_path);
    if (!request.options.device.is_cpu())
      throw std::runtime_error("'" + module_name + "' is a W8A8 (int8) linear, which runs on the CPU only (oneDNN); "
                               "load this model on the CPU");
    const std::string weight_name = module_name + ".weight";
    check_linear_tensor(request, weight_name, {request.out_features, request.in_features}, request.why);
    const auto& info = request.checkpoint.info(weight_name);
    if (info.dtype != at::kChar)
      throw std::runtime_error("tensor '" + weight_name + "' in '" + info.file.string() + "' is " + info.dtype_name +
                               ", but config.json's quantization_config (compressed-tensors W8A8) stores it as I8");
    const std::string scale_name = module_name + ".weight_scale";
    const SafetensorsReader& checkpoint = request.checkpoint;
    if (scheme.weight_quant == WeightQuant::kPerChannel)
      check_linear_tensor(request, scale_name, {request.out_features, 1}, "per-channel weight scales");
    else if (!checkpoint.contains(scale_name) || checkpoint.info(scale_name).shape.size() != 0)
      check_linear_tensor(request, scale_name, {1}, "one per-tensor weight scale");  // [1], or a scalar []
    return std::make_unique<Int8Linear>(checkpoint.load(weight_name, at::kChar), checkpoint.load(scale_name, at::kFloat),
                                        w8a8_linear_options(scheme, module_name), module_name);
  }
};

}  // namespace

std::shared_ptr<const LinearFormat> make_w8a8_format() { return std::make_shared<W8A8Format>(); }

}  // namespace compactmind::detail
