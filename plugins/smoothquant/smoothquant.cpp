// SmoothQuant W8A8 (Xiao et al., "SmoothQuant: Accurate and Efficient Post-Training Quantization for
// Large Language Models", ICML 2023; github.com/mit-han-lab/smoothquant): migrate activation
// outliers into the weights with per-channel factors from calibration statistics, then run every
// decoder linear as a real int8 × int8 layer (Int8Linear). README.md has the parameters and figures.
#include "compactmind/log.h"
#include "compactmind/method.h"

#include "smoothing.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace compactmind::smoothquant {
namespace {

// The declared space. Only alpha is searched: the other parameters select the paper's variants and
// baselines (per-token/per-channel, quantized BMM inputs, smoothing on) and are fixed at the recipe
// that SmoothQuant reports for LLaMA; pipelines may still set them.
SpaceBuilder declared_space() {
  SpaceBuilder space;
  space.add_bool("smooth", true).fixed();
  space.add_float("alpha", 0.0, 1.0, 0.5).when("smooth", true);
  space.add_categorical("act_quant", {"per_token", "per_tensor"}, "per_token").fixed();
  space.add_categorical("weight_quant", {"per_channel", "per_tensor"}, "per_channel").fixed();
  space.add_bool("quantize_bmm_input", true).fixed();
  return space;
}

class SmoothQuant final : public Method {
 public:
  void apply(LlamaModel& model, const Params& params, MethodContext& context) override {
    W8A8Scheme scheme;
    scheme.act_quant = parse_act_quant(params.get_string("act_quant"));
    scheme.weight_quant = parse_weight_quant(params.get_string("weight_quant"));
    scheme.quantize_bmm_input = params.get_bool("quantize_bmm_input");
    const bool smooth = params.get_bool("smooth");
    std::ostringstream summary;
    summary << "smoothquant: W8A8 " << to_string(scheme.weight_quant) << " weights, "
            << to_string(scheme.act_quant) << " activations, BMM inputs "
            << (scheme.quantize_bmm_input ? "quantized" : "float");
    if (smooth) {
      const double alpha = params.get_float("alpha");
      if (!std::isfinite(alpha) || alpha < 0.0 || alpha > 1.0)
        throw std::invalid_argument("smoothquant: alpha must be in [0, 1], got " + std::to_string(alpha));
      smooth_llama(model, context.activation_stats(model), alpha);
      round_norms_to_storage_dtype(model);
      scheme.provenance = {{"method", "smoothquant"}, {"alpha", alpha}};
      summary << ", smoothed with alpha " << alpha;
    } else {
      scheme.provenance = {{"method", "w8a8"}, {"smooth", false}};
      summary << ", no smoothing";
    }
    const int64_t converted = quantize_llama_w8a8(model, scheme);
    summary << " (" << converted << " linears)";
    log_info(summary.str());
  }
};

}  // namespace
}  // namespace compactmind::smoothquant

COMPACTMIND_PLUGIN(compactmind::smoothquant::SmoothQuant, "smoothquant", "1.0.0", CM_KIND_QUANTIZATION,
                   "SmoothQuant W8A8: smoothing from calibration abs-max, int8 weights and activations (oneDNN)",
                   compactmind::smoothquant::declared_space())
