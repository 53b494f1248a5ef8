// Wanda (Sun, Liu, Bair, Kolter, "A Simple and Effective Pruning Approach for Large Language Models",
// ICLR 2024; locuslab/wanda, lib/prune.py prune_wanda): weights scored by |W_ij| · ‖X_j‖₂, the norm
// of input feature j over the calibration tokens, pruned per output row (unstructured) or N:M, with
// the reference's sequential driver (each layer's inputs through the already-pruned layers before
// it; sequential_calibration.h). Pruned weights are zeroed; lm_head is left dense. README.md has
// the parameters and figures.
#include "compactmind/log.h"
#include "compactmind/method.h"
#include "compactmind/sequential_calibration.h"
#include "compactmind/sparsity_mask.h"

#include <map>
#include <sstream>

namespace compactmind::wanda {
namespace {

SpaceBuilder declared_space() {
  SpaceBuilder space;
  declare_sparsity_space(space);
  return space;
}

class Wanda final : public Method {
 public:
  void apply(LlamaModel& model, const Params& params, MethodContext& context) override {
    const auto [pattern, sparsity] = sparsity_choice_from(params);
    // Every layer checked before the calibration: a refused model is left unchanged.
    std::map<std::string, DenseLinear*> targets;
    for (auto& [name, linear] : model.named_linears()) {
      if (name == "lm_head") continue;
      DenseLinear& dense = as_dense(*linear, "wanda: " + name);
      check_pattern_fits(pattern, dense.in_features(), "wanda: " + name);
      targets.emplace(name, &dense);
    }
    const at::Tensor& windows = context.calibration_windows();
    // Σ over calibration tokens of x_j², per input feature (the reference's scaler_row before its
    // division by the sample count, a common factor that does not change any row's order).
    std::map<std::string, at::Tensor> squared_norms;
    const auto observe = [&](size_t, const std::string& name, const at::Tensor& input) {
      const at::Tensor sums = input.reshape({-1, input.size(-1)}).to(at::kFloat).pow(2).sum(0);
      auto found = squared_norms.find(name);
      if (found == squared_norms.end()) squared_norms.emplace(name, sums);
      else found->second = found->second + sums;
    };
    int64_t pruned = 0, total = 0;
    const auto prune_layer = [&](size_t index) {
      const std::string prefix = "model.layers." + std::to_string(index) + ".";
      for (auto& [name, dense] : targets) {
        if (name.rfind(prefix, 0) != 0) continue;
        const auto found = squared_norms.find(name);
        if (found == squared_norms.end())
          throw std::runtime_error("wanda: '" + name + "' saw no calibration input (a pruned-away sub-block?)");
        const at::Tensor metric = dense->weight.detach().abs() * found->second.sqrt().unsqueeze(0);
        const at::Tensor mask = pruning_mask(metric, pattern, sparsity, UnstructuredScope::kRow, "wanda: " + name);
        squared_norms.erase(found);
        at::NoGradGuard no_grad;
        dense->weight.masked_fill_(mask, 0.0);
        pruned += mask.sum().item<int64_t>();
        total += mask.numel();
      }
    };
    calibrate_sequentially(model, windows, observe, prune_layer);
    std::ostringstream summary;
    summary << "wanda: " << params.get_string("pattern") << " pruning on " << windows.size(0)
            << " calibration windows zeroed " << pruned << " of " << total << " decoder linear weights ("
            << double(pruned) / double(std::max<int64_t>(total, 1)) << ")";
    log_info(summary.str());
  }
};

}  // namespace
}  // namespace compactmind::wanda

COMPACTMIND_PLUGIN(compactmind::wanda::Wanda, "wanda", "1.0.0", CM_KIND_PRUNING,
                   "Wanda pruning (|W|·‖X‖ per output row: unstructured, 2:4, 4:8) with sequential calibration",
                   compactmind::wanda::declared_space())
