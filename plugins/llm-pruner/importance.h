// Group importance as LLM-Pruner estimates it (hf_llama_pruner.py's MagnitudeImportance and
// TaylorImportance, block-wise): an element-wise salience of every coupled weight, summed along the
// axis that is not pruned (a q row over its inputs, an o_proj column over its outputs), reduced across
// the group's linears with the aggregation, and — for attention — summed over the head's dimensions.
#pragma once

#include "dependency_groups.h"
#include "pruning_settings.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <random>

namespace compactmind::llm_pruner {

// Element-wise salience of one weight [out, in]:
//   l1 → |w|, l2 → w² (LLM-Pruner sums |w|^p without the root, so "l2" ranks by squared norm),
//   taylor → |w ⊙ ∂L/∂w| (first-order term of the loss change when w is zeroed: "param_first").
// `grad` is only read for taylor. Not defined for random.
at::Tensor element_salience(const at::Tensor& weight, const at::Tensor& grad, Criterion criterion);

// Saliences of the four attention linears, each shaped like its weight.
struct AttentionSaliences {
  at::Tensor q, k, v, o;
};
// One score per key/value group [kv_heads]. Per linear, the rows (q, k, v) or columns (o) of the group
// are summed over the non-pruned axis and, where a linear holds several query heads per group, over
// those heads (LLM-Pruner's alignment of unequal lengths), giving [kv_heads, head_dim] each; these are
// reduced across the 4 linears with `aggregation`, then summed over head_dim (its consecutive_groups).
at::Tensor attention_group_importance(const AttentionSaliences& saliences,
                                      const AttentionGeometry& geometry, Aggregation aggregation);

struct MlpSaliences {
  at::Tensor gate, up, down;
};
// One score per channel [intermediate]: gate row, up row and down column reduced with `aggregation`.
at::Tensor mlp_channel_importance(const MlpSaliences& saliences, Aggregation aggregation);

// `count` independent uniform scores in [0, 1) drawn from `generator` (criterion random).
at::Tensor random_importance(int64_t count, std::mt19937_64& generator);

}  // namespace compactmind::llm_pruner
