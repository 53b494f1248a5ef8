// Shared helpers of the llm-pruner model tests: the
// independent "zero the removed groups" reference that the physical removal must reproduce.
#pragma once

#include "llm_pruner.h"
#include "support/fixtures.h"
#include "support/temp_dir.h"

#include "compactmind/llama_model.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace llm_pruner_test {

// Fixture paths and temp folders come from tests/support.
using compactmind::test::model_dir;
using compactmind::test::TempDir;
using compactmind::test::wikitext;

inline compactmind::DenseLinear& dense(compactmind::Linear& linear) {
  return compactmind::as_dense(linear, "test");
}

// Zeroes, in the unpruned `model`, every weight of the groups `report` says were removed: for a
// key/value group its k/v rows and the q rows and o_proj columns of its query heads; for an MLP
// channel its gate/up rows and down_proj column. Written from the layer geometry, independently of
// the plugin's own index helpers.
inline void zero_removed_groups(compactmind::LlamaModel& model,
                                const compactmind::llm_pruner::PruneReport& report) {
  const int64_t head_dim = model.config.head_dim;
  for (const auto& pruning : report.layers) {
    compactmind::DecoderLayer& layer = model.layers[pruning.layer];
    const int64_t heads_per_group =
        pruning.before.num_attention_heads / pruning.before.num_key_value_heads;
    for (int64_t group : pruning.removed_groups) {
      const int64_t q_begin = group * heads_per_group * head_dim;
      const int64_t q_end = q_begin + heads_per_group * head_dim;
      dense(*layer.q_proj).weight.slice(0, q_begin, q_end).zero_();
      dense(*layer.o_proj).weight.slice(1, q_begin, q_end).zero_();
      dense(*layer.k_proj).weight.slice(0, group * head_dim, (group + 1) * head_dim).zero_();
      dense(*layer.v_proj).weight.slice(0, group * head_dim, (group + 1) * head_dim).zero_();
    }
    for (int64_t channel : pruning.removed_channels) {
      dense(*layer.gate_proj).weight[channel].zero_();
      dense(*layer.up_proj).weight[channel].zero_();
      dense(*layer.down_proj).weight.select(1, channel).zero_();
    }
  }
}

// Deterministic token ids [batch, length] in [3, vocab).
inline at::Tensor sample_ids(int64_t vocab, int64_t batch, int64_t length, uint64_t seed) {
  std::mt19937_64 generator(seed);
  at::Tensor ids = at::empty({batch, length}, at::kLong);
  int64_t* data = ids.data_ptr<int64_t>();
  for (int64_t i = 0; i < batch * length; ++i) data[i] = 3 + static_cast<int64_t>(generator() % (vocab - 3));
  return ids;
}

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace llm_pruner_test
