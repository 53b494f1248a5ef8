// Which prunable units (key/value groups or MLP channels) of one layer are removed.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace compactmind::llm_pruner {

// round(ratio · count), halves away from zero, capped at count − 1 so every pruned layer keeps at
// least one key/value group and one MLP channel (a layer without any would no longer be a block —
// LLM-Pruner's _check_sparsity refuses the same). LLM-Pruner removes count − floor(count·(1 − ratio)),
// i.e. rounds up; rounding to nearest keeps the removed fraction closest to `ratio` on small counts
// (8 heads at 0.3: 2 heads, not 3).
int64_t removal_count(double ratio, int64_t count);

// Indices of the `remove` lowest scores of `importance` [count], ascending by index. Ties go to the
// lower index (stable order), so equal scores give a deterministic choice.
std::vector<int64_t> lowest_importance(const at::Tensor& importance, int64_t remove);

// 0..count−1 without `removed` (which is sorted).
std::vector<int64_t> complement(int64_t count, const std::vector<int64_t>& removed);

}  // namespace compactmind::llm_pruner
