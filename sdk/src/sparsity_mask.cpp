#include "compactmind/sparsity_mask.h"

#include <stdexcept>

namespace compactmind {

SparsityPattern parse_sparsity_pattern(const std::string& text) {
  if (text == "unstructured") return {};
  if (text == "2:4") return {2, 4};
  if (text == "4:8") return {4, 8};
  throw std::invalid_argument("sparsity pattern '" + text + "' is not one of unstructured, 2:4, 4:8");
}

void check_pattern_fits(const SparsityPattern& pattern, int64_t in_features, const std::string& where) {
  if (pattern.structured() && in_features % pattern.m != 0)
    throw std::invalid_argument(where + ": " + std::to_string(pattern.n) + ":" + std::to_string(pattern.m) +
                                " sparsity needs input features in multiples of " + std::to_string(pattern.m) +
                                ", it has " + std::to_string(in_features));
}

at::Tensor pruning_mask(const at::Tensor& metric, const SparsityPattern& pattern, double sparsity,
                        UnstructuredScope scope, const std::string& where) {
  const at::Tensor values = metric.detach().to(at::kFloat);
  const int64_t rows = values.size(0), columns = values.size(1);
  at::Tensor mask = at::zeros({rows, columns}, values.options().dtype(at::kBool));
  if (pattern.structured()) {
    check_pattern_fits(pattern, columns, where);
    // The n smallest of each block of m columns, per row (topk smallest, as the reference).
    const at::Tensor blocks = values.reshape({rows, columns / pattern.m, pattern.m});
    const at::Tensor smallest = std::get<1>(blocks.topk(pattern.n, /*dim=*/2, /*largest=*/false));
    return mask.reshape({rows, columns / pattern.m, pattern.m}).scatter_(2, smallest, true).reshape({rows, columns});
  }
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    throw std::invalid_argument(where + ": sparsity must be in [0, 1), got " + std::to_string(sparsity));
  if (scope == UnstructuredScope::kLayer) {
    if (sparsity == 0.0) return mask;
    const at::Tensor sorted = std::get<0>(values.flatten().sort());
    const float threshold = sorted[int64_t(double(values.numel()) * sparsity)].item<float>();
    return values <= threshold;
  }
  const int64_t pruned = int64_t(double(columns) * sparsity);
  const at::Tensor order = std::get<1>(values.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false));
  return mask.scatter_(1, order.narrow(1, 0, pruned), true);
}

void declare_sparsity_space(SpaceBuilder& space) {
  space.add_categorical("pattern", {"unstructured", "2:4", "4:8"}, "unstructured");
  space.add_float("sparsity", 0.0, 0.9, 0.5).when("pattern", "unstructured");
}

SparsityChoice sparsity_choice_from(const Params& params) {
  SparsityChoice choice;
  choice.pattern = parse_sparsity_pattern(params.get_string("pattern"));
  choice.sparsity = choice.pattern.structured() ? choice.pattern.sparsity() : params.get_float("sparsity");
  return choice;
}

}  // namespace compactmind
