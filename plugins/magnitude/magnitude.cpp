// One-shot magnitude pruning of every decoder linear, the baseline of Wanda and SparseGPT, as
// Wanda's reference prune_magnitude (locuslab/wanda): |W| as the metric, unstructured over the whole
// layer or N:M per row (sparsity_mask.h). Pruned weights are zeroed in the float weights; lm_head is
// left dense. README.md has the parameters and figures.
#include "compactmind/log.h"
#include "compactmind/method.h"
#include "compactmind/sparsity_mask.h"

#include <sstream>

namespace compactmind::magnitude {
namespace {

SpaceBuilder declared_space() {
  SpaceBuilder space;
  declare_sparsity_space(space);
  return space;
}

class MagnitudePruning final : public Method {
 public:
  void apply(LlamaModel& model, const Params& params, MethodContext&) override {
    const auto [pattern, sparsity] = sparsity_choice_from(params);
    std::vector<std::pair<std::string, DenseLinear*>> targets;
    for (auto& [name, linear] : model.named_linears())
      if (name != "lm_head") targets.emplace_back(name, &as_dense(*linear, "magnitude: " + name));
    std::vector<at::Tensor> masks;  // all computed first: a refused model is left unchanged
    for (auto& [name, dense] : targets)
      masks.push_back(pruning_mask(dense->weight.abs(), pattern, sparsity, UnstructuredScope::kLayer, "magnitude: " + name));
    int64_t pruned = 0, total = 0;
    for (size_t i = 0; i < targets.size(); ++i) {
      at::NoGradGuard no_grad;
      targets[i].second->weight.masked_fill_(masks[i], 0.0);
      pruned += masks[i].sum().item<int64_t>();
      total += masks[i].numel();
    }
    std::ostringstream summary;
    summary << "magnitude: " << params.get_string("pattern") << " pruning zeroed " << pruned << " of " << total
            << " decoder linear weights (" << double(pruned) / double(std::max<int64_t>(total, 1)) << ")";
    log_info(summary.str());
  }
};

}  // namespace
}  // namespace compactmind::magnitude

COMPACTMIND_PLUGIN(compactmind::magnitude::MagnitudePruning, "magnitude", "1.0.0", CM_KIND_PRUNING,
                   "Magnitude pruning (unstructured per layer, 2:4, 4:8) of the decoder linears; the baseline of Wanda",
                   compactmind::magnitude::declared_space())
