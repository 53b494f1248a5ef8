// GPTQ (Frantar et al., ICLR 2023; IST-DASLab/gptq): weight-only quantization with second-order
// error feedback. The driver is the reference's llama_sequential: decoder layers in order, the
// Hessian H = 2 X Xᵀ / samples of each linear's input gathered while the layer runs on the outputs
// of the layers before it (already quantized), then each of its linears solved (gptq_solver.h).
// Stored as compressed-tensors pack-quantized; executed packed (PackedLinear). README.md has the
// parameters and figures.
#include "compactmind/log.h"
#include "compactmind/method.h"
#include "compactmind/packed_linear.h"
#include "compactmind/sequential_calibration.h"

#include "gptq_solver.h"

#include <map>
#include <sstream>
#include <stdexcept>

namespace compactmind::gptq {
namespace {

// Defaults as the reference's llama.py (groupsize -1, asymmetric, no act-order, percdamp 0.01,
// blocksize 128), except bits: the reference's 16 means "do not quantize". bits, group_size and
// symmetric are the shared packed-scheme parameters (packed_linear.h).
SpaceBuilder declared_space() {
  SpaceBuilder space;
  declare_packed_scheme(space);
  space.add_bool("act_order", false);
  space.add_float("dampening", 0.001, 0.1, 0.01).log_scale().fixed();
  space.add_int("block_size", 32, 256, 128).step(32).fixed();
  return space;
}

// Running Σ XᵀX over the calibration inputs of one linear, and how many sequences it saw.
struct InputGram {
  at::Tensor sum;
  int64_t samples = 0;
};

class Gptq final : public Method {
 public:
  void apply(LlamaModel& model, const Params& params, MethodContext& context) override {
    GptqOptions options;
    options.scheme = packed_scheme_from(params, "gptq");
    options.act_order = params.get_bool("act_order");
    options.dampening = params.get_float("dampening");
    options.block_size = params.get_int("block_size");
    if (!(options.dampening > 0.0)) throw std::invalid_argument("gptq: dampening must be > 0");

    // Every layer checked before the (long) calibration: a refused model is left as it was.
    std::map<std::string, std::unique_ptr<Linear>*> slots;
    for (auto& [name, slot] : model.named_linear_slots()) {
      if (name == "lm_head") continue;  // kept in float, as the reference does
      const DenseLinear& dense = as_dense(**slot, "gptq: " + name);
      options.scheme.groups(dense.in_features(), "gptq: " + name);
      slots.emplace(name, slot);
    }
    const at::Tensor& windows = context.calibration_windows();

    std::map<std::string, InputGram> grams;
    const auto observe = [&](size_t, const std::string& name, const at::Tensor& input) {
      const at::Tensor rows = input.reshape({-1, input.size(-1)}).to(at::kFloat);
      InputGram& gram = grams[name];
      if (!gram.sum.defined()) gram.sum = at::zeros({rows.size(1), rows.size(1)}, rows.options());
      gram.sum.addmm_(rows.t(), rows);
      gram.samples += input.dim() == 3 ? input.size(0) : 1;  // sequences, as the reference's add_batch
    };
    double worst_error = 0.0;
    const auto quantize_layer = [&](size_t index) {
      const std::string prefix = "model.layers." + std::to_string(index) + ".";
      for (auto& [name, slot] : slots) {
        if (name.rfind(prefix, 0) != 0) continue;
        const auto found = grams.find(name);
        if (found == grams.end())
          throw std::runtime_error("gptq: '" + name + "' saw no calibration input (a pruned-away sub-block?)");
        const at::Tensor hessian = found->second.sum * (2.0 / double(found->second.samples));
        grams.erase(found);
        const at::Tensor weight = as_dense(**slot, "gptq: " + name).weight.detach();
        const GptqResult result = gptq_quantize(weight, hessian, options, name);
        auto packed = std::make_unique<PackedLinear>(result.levels, result.scale, result.zero, options.scheme);
        const double relative =
            ((packed->dense_weight() - weight).norm() / weight.norm().clamp_min(1e-12)).item<double>();
        worst_error = std::max(worst_error, relative);
        *slot = std::move(packed);
      }
    };
    calibrate_sequentially(model, windows, observe, quantize_layer);

    const nlohmann::json actorder = options.act_order ? nlohmann::json("weight") : nlohmann::json(nullptr);
    model.config.source["quantization_config"] = pack_quantized_config(
        options.scheme, actorder, "gptq",
        {{"method", "gptq"}, {"dampening", options.dampening}, {"block_size", options.block_size},
         {"act_order", options.act_order}, {"calibration_windows", windows.size(0)}});
    std::ostringstream summary;
    summary << "gptq: W" << options.scheme.bits << "A16, group size " << options.scheme.group_size << ", "
            << (options.scheme.symmetric ? "symmetric" : "asymmetric") << (options.act_order ? ", act-order" : "")
            << " on " << windows.size(0) << " calibration windows (" << slots.size()
            << " linears; largest relative weight change " << worst_error << ")";
    log_info(summary.str());
  }
};

}  // namespace
}  // namespace compactmind::gptq

COMPACTMIND_PLUGIN(compactmind::gptq::Gptq, "gptq", "1.0.0", CM_KIND_QUANTIZATION,
                   "GPTQ weight-only int quantization (W2/3/4/8A16) with Hessian error feedback, packed",
                   compactmind::gptq::declared_space())
