#include "gptq_solver.h"

#include <stdexcept>
#include <vector>

namespace compactmind::gptq {

GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const GptqOptions& options,
                         const std::string& name) {
  at::Tensor W = weight.detach().to(at::kCPU, at::kFloat).clone();
  at::Tensor H = hessian.detach().to(at::kCPU, at::kFloat).clone();
  const int64_t rows = W.size(0), columns = W.size(1);
  if (H.sizes() != at::IntArrayRef({columns, columns}))
    throw std::invalid_argument("gptq: '" + name + "': Hessian " + c10::str(H.sizes()) + " for a weight of " +
                                std::to_string(columns) + " input features");
  if (options.block_size < 1) throw std::invalid_argument("gptq: block_size must be ≥ 1");
  const PackedScheme& scheme = options.scheme;
  const IntQuantizer quantizer = scheme.quantizer();
  const int64_t groups = scheme.groups(columns, "gptq: '" + name + "'");
  const bool grouped = scheme.group_size != -1;
  const int64_t group_size = grouped ? scheme.group_size : columns;

  GptqResult result;
  result.levels = at::zeros({rows, columns});
  result.scale = at::empty({rows, groups});
  result.zero = at::empty({rows, groups});
  // Per-channel parameters come from the whole weight before dead columns are zeroed (the reference
  // calls find_params first).
  QuantParams params;
  if (!grouped) {
    params = find_quant_params(quantizer, W);
    result.scale.select(1, 0).copy_(params.scale);
    result.zero.select(1, 0).copy_(params.zero);
  }
  // Inputs that are always zero: the column cannot matter; H gets a 1 so it stays invertible.
  const at::Tensor dead = H.diagonal() == 0;
  H.diagonal().masked_fill_(dead, 1.0);
  W.masked_fill_(dead.unsqueeze(0), 0.0);

  // With act_order the groups stay the weight's own contiguous columns ("static groups" of the
  // reference, compressed-tensors actorder "weight"), their parameters from the original columns,
  // so the stored format needs no per-column group index.
  std::vector<QuantParams> static_groups;
  if (grouped && options.act_order)
    for (int64_t g = 0; g < groups; ++g) {
      static_groups.push_back(find_quant_params(quantizer, W.narrow(1, g * group_size, group_size)));
      result.scale.select(1, g).copy_(static_groups.back().scale);
      result.zero.select(1, g).copy_(static_groups.back().zero);
    }
  at::Tensor permutation;
  if (options.act_order) {
    permutation = at::argsort(H.diagonal(), /*dim=*/0, /*descending=*/true);
    W = W.index_select(1, permutation);
    H = H.index_select(0, permutation).index_select(1, permutation);
  }

  const double damp = options.dampening * H.diagonal().mean().item<double>();
  H.diagonal().add_(damp);
  // Upper Cholesky factor of H⁻¹: row i holds the update direction of column i.
  at::Tensor Hinv;
  try {
    Hinv = at::linalg_cholesky(at::cholesky_inverse(at::linalg_cholesky(H)), /*upper=*/true);
  } catch (const std::exception&) {
    throw std::runtime_error("gptq: '" + name + "': the dampened Hessian is not positive definite; raise dampening "
                             "(now " + std::to_string(options.dampening) + ") or use more calibration data");
  }
  const int64_t* order = options.act_order ? permutation.data_ptr<int64_t>() : nullptr;

  for (int64_t i1 = 0; i1 < columns; i1 += options.block_size) {
    const int64_t i2 = std::min(columns, i1 + options.block_size);
    const int64_t count = i2 - i1;
    at::Tensor W1 = W.narrow(1, i1, count).clone();
    at::Tensor Err1 = at::zeros({rows, count});
    const at::Tensor Hinv1 = Hinv.narrow(0, i1, count).narrow(1, i1, count);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t column = i1 + i;
      if (grouped) {
        if (!options.act_order) {
          // As the reference: the group's parameters from the outer W when its first column comes
          // up (for groups smaller than a block, W there lacks this block's pending updates).
          if (column % group_size == 0) {
            params = find_quant_params(quantizer, W.narrow(1, column, std::min(group_size, columns - column)));
            result.scale.select(1, column / group_size).copy_(params.scale);
            result.zero.select(1, column / group_size).copy_(params.zero);
          }
        } else {
          params = static_groups[size_t(order[column] / group_size)];
        }
      }
      const at::Tensor w = W1.select(1, i);
      const double d = Hinv1[i][i].item<double>();
      const at::Tensor levels = quantize_levels(quantizer, w.unsqueeze(1), params).squeeze(1);
      const at::Tensor q = params.scale * (levels - params.zero);
      result.levels.select(1, column).copy_(levels);
      const at::Tensor error = (w - q) / d;
      W1.narrow(1, i, count - i).sub_(error.unsqueeze(1).mm(Hinv1.narrow(0, i, 1).narrow(1, i, count - i)));
      Err1.select(1, i).copy_(error);
    }
    if (i2 < columns) W.narrow(1, i2, columns - i2).sub_(Err1.mm(Hinv.narrow(0, i1, count).narrow(1, i2, columns - i2)));
  }
  if (options.act_order) result.levels = result.levels.index_select(1, at::argsort(permutation));
  return result;
}

}  // namespace compactmind::gptq
