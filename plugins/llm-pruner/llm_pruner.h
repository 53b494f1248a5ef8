// LLM-Pruner (Ma et al. 2023, "LLM-Pruner: On the Structural Pruning of Large Language Models"),
// block-wise: in each decoder layer of [layer_start, layer_end), the lowest-importance key/value
// groups and/or MLP channels are removed from the tensors. Entry point of the plugin, callable
// directly by tests.
#pragma once

#include "pruning_settings.h"

#include "compactmind/llama_model.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace compactmind::llm_pruner {

struct LayerPruning {
  int64_t layer = 0;
  LayerShape before;
  LayerShape after;
  std::vector<int64_t> removed_groups;    // key/value groups (with MHA: heads), original indices
  std::vector<int64_t> removed_channels;  // MLP channels, original indices
  int64_t removed_parameters = 0;         // exactly what the removed groups couple
};

struct PruneReport {
  LayerRange range;
  std::vector<LayerPruning> layers;  // one per layer of the range
  int64_t removed_parameters() const;
};

// Prunes `model` in place. `calibration_windows` [N, L] int64 is only read for Criterion::kTaylor (it
// may be undefined otherwise). Validates everything before changing anything: a bad parameter, a
// quantized linear in the range or a malformed layer throws std::invalid_argument and leaves the
// model untouched.
PruneReport prune_model(LlamaModel& model, const PruneSettings& settings,
                        const at::Tensor& calibration_windows);

}  // namespace compactmind::llm_pruner
