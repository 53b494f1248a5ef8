#include "importance.h"

#include <stdexcept>

namespace compactmind::llm_pruner {

namespace {

// Reduces [linears, ...] across the linears (dim 0).
at::Tensor aggregate(const at::Tensor& stacked, Aggregation aggregation) {
  switch (aggregation) {
    case Aggregation::kSum: return stacked.sum(0);
    case Aggregation::kMean: return stacked.mean(0);
    case Aggregation::kMax: return std::get<0>(stacked.max(0));
  }
  throw std::logic_error("llm-pruner: unknown aggregation");
}

}  // namespace

at::Tensor element_salience(const at::Tensor& weight, const at::Tensor& grad, Criterion criterion) {
  switch (criterion) {
    case Criterion::kL1: return weight.abs();
    case Criterion::kL2: return weight.square();
    case Criterion::kTaylor:
      if (!grad.defined()) {
        throw std::logic_error("llm-pruner: taylor importance needs the weight's gradient");
      }
      return (weight * grad).abs();
    case Criterion::kRandom: break;
  }
  throw std::logic_error("llm-pruner: element_salience has no meaning for random importance");
}

at::Tensor attention_group_importance(const AttentionSaliences& saliences,
                                      const AttentionGeometry& geometry, Aggregation aggregation) {
  const int64_t groups = geometry.kv_heads;
  const int64_t per_group = geometry.heads_per_group();
  const int64_t head_dim = geometry.head_dim;
  // q rows / o columns: [heads·head_dim] → [groups, heads_per_group, head_dim] → sum over the heads.
  const at::Tensor q = saliences.q.sum(1).view({groups, per_group, head_dim}).sum(1);
  const at::Tensor o = saliences.o.sum(0).view({groups, per_group, head_dim}).sum(1);
  const at::Tensor k = saliences.k.sum(1).view({groups, head_dim});
  const at::Tensor v = saliences.v.sum(1).view({groups, head_dim});
  return aggregate(at::stack({q, k, v, o}), aggregation).sum(1);
}

at::Tensor mlp_channel_importance(const MlpSaliences& saliences, Aggregation aggregation) {
  return aggregate(at::stack({saliences.gate.sum(1), saliences.up.sum(1), saliences.down.sum(0)}),
                   aggregation);
}

at::Tensor random_importance(int64_t count, std::mt19937_64& generator) {
  // The top 53 bits of each draw as a double in [0, 1): identical on every platform, unlike
  // std::uniform_real_distribution, so a seed means the same pruning everywhere.
  std::vector<double> scores(static_cast<size_t>(count));
  for (double& score : scores) score = static_cast<double>(generator() >> 11) * 0x1.0p-53;
  return at::tensor(scores, at::kDouble);
}

}  // namespace compactmind::llm_pruner
