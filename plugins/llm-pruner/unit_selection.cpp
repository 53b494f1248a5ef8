#include "unit_selection.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace compactmind::llm_pruner {

int64_t removal_count(double ratio, int64_t count) {
  if (count <= 1) return 0;
  const auto rounded = static_cast<int64_t>(std::llround(ratio * static_cast<double>(count)));
  return std::clamp<int64_t>(rounded, 0, count - 1);
}

std::vector<int64_t> lowest_importance(const at::Tensor& importance, int64_t remove) {
  const at::Tensor scores = importance.detach().to(at::kDouble).contiguous();
  const int64_t count = scores.numel();
  if (remove < 0 || remove > count) {
    throw std::logic_error("llm-pruner: cannot remove " + std::to_string(remove) + " of " +
                           std::to_string(count) + " units");
  }
  const double* data = scores.data_ptr<double>();
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [data](int64_t a, int64_t b) { return data[a] < data[b]; });
  std::vector<int64_t> removed(order.begin(), order.begin() + remove);
  std::sort(removed.begin(), removed.end());
  return removed;
}

std::vector<int64_t> complement(int64_t count, const std::vector<int64_t>& removed) {
  std::vector<int64_t> kept;
  kept.reserve(static_cast<size_t>(count) - removed.size());
  auto next_removed = removed.begin();
  for (int64_t index = 0; index < count; ++index) {
    if (next_removed != removed.end() && *next_removed == index) {
      ++next_removed;
    } else {
      kept.push_back(index);
    }
  }
  return kept;
}

}  // namespace compactmind::llm_pruner
