// Example plugin: unstructured magnitude pruning (Han et al. 2015, "Learning both Weights and
// Connections for Efficient Neural Networks"): in every decoder linear, zero the `sparsity` fraction of
// weights with the smallest |w|, over the whole matrix ("layer") or in each output row ("row").
// Zeros in a dense matrix save no bytes by themselves; the point here is the shape of a plugin.
#include <compactmind/method.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

// Zeroes the smallest-|w| `sparsity` fraction of `weight` [out, in], over all of it or per row.
void prune_smallest(at::Tensor& weight, double sparsity, bool per_row) {
  const at::Tensor magnitude = weight.abs();
  const int64_t count = per_row ? weight.size(1) : weight.numel();
  const int64_t pruned = static_cast<int64_t>(sparsity * static_cast<double>(count));
  if (pruned == 0) return;
  // kthvalue gives the pruned-th smallest magnitude: everything at or below it goes.
  const at::Tensor threshold = per_row ? std::get<0>(magnitude.kthvalue(pruned, /*dim=*/1, /*keepdim=*/true))
                                       : std::get<0>(magnitude.flatten().kthvalue(pruned));
  weight.masked_fill_(magnitude <= threshold, 0.0);
}

class MagnitudePruning final : public compactmind::Method {
 public:
  void apply(compactmind::LlamaModel& model, const compactmind::Params& params,
             compactmind::MethodContext& /*context*/) override {
    const double sparsity = params.get_float("sparsity");
    const bool per_row = params.get_string("scope") == "row";
    at::NoGradGuard no_grad;  // in-place edits of weights that may require grad
    for (size_t index = 0; index < model.layers.size(); ++index) {
      auto& layer = model.layers[index];
      const std::string prefix = "model.layers." + std::to_string(index) + ".";
      const std::vector<std::pair<std::string, compactmind::Linear*>> linears = {
          {"self_attn.q_proj", layer.q_proj.get()}, {"self_attn.k_proj", layer.k_proj.get()},
          {"self_attn.v_proj", layer.v_proj.get()}, {"self_attn.o_proj", layer.o_proj.get()},
          {"mlp.gate_proj", layer.gate_proj.get()}, {"mlp.up_proj", layer.up_proj.get()},
          {"mlp.down_proj", layer.down_proj.get()}};
      for (const auto& [name, linear] : linears) {
        if (linear->kind() != "dense")
          throw std::invalid_argument(prefix + name + " is a '" + linear->kind() +
                                      "' layer; magnitude pruning needs float weights (prune before quantizing)");
        // A dense layer's dense_weight() is its weight tensor itself (linear.h), so this edits the layer.
        at::Tensor weight = linear->dense_weight();
        prune_smallest(weight, sparsity, per_row);
      }
    }
  }
};

}  // namespace

COMPACTMIND_PLUGIN(MagnitudePruning, "example-magnitude", "0.1.0", CM_KIND_PRUNING,
                   "Example: zero the smallest-magnitude weights of every decoder linear",
                   compactmind::SpaceBuilder()
                       .add_float("sparsity", 0.0, 0.9, 0.5)
                       .add_categorical("scope", {"layer", "row"}, "layer"))
