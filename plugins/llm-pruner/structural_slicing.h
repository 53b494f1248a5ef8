// Physical removal: the weights of removed groups are cut out of the tensors (not masked), and the
// layer's own LayerShape records its new head counts / MLP width, which the forward and the saver's
// per-layer config extension ("compactmind_layers") follow.
#pragma once

#include "dependency_groups.h"

#include "compactmind/llama_model.h"

#include <cstdint>
#include <vector>

namespace compactmind::llm_pruner {

// Keeps only the key/value groups `kept` (sorted) of `layer`: q/k/v output rows and o_proj input
// columns are sliced; shape.num_attention_heads / num_key_value_heads shrink accordingly.
void keep_attention_groups(DecoderLayer& layer, const AttentionGeometry& geometry,
                           const std::vector<int64_t>& kept, int64_t layer_index);

// Keeps only the MLP channels `kept` (sorted): gate/up rows and down_proj columns are sliced;
// shape.intermediate_size becomes kept.size().
void keep_mlp_channels(DecoderLayer& layer, const std::vector<int64_t>& kept, int64_t layer_index);

}  // namespace compactmind::llm_pruner
