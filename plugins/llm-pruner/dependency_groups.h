// LLM-Pruner's dependency groups in a LLaMA decoder layer: the weights that must be removed together
// so that the layer stays a valid (smaller) layer.
//  - attention: one key/value group = its k/v output rows, the q output rows of every query head that
//    reads it (HF's repeat_kv: kv head j serves query heads [j·n_rep, (j+1)·n_rep)) and the o_proj input
//    columns of those query heads. With multi-head attention (n_rep = 1) this is one head.
//  - MLP: one channel = its gate_proj and up_proj output rows and its down_proj input column.
#pragma once

#include "compactmind/llama_model.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace compactmind::llm_pruner {

struct AttentionGeometry {
  int64_t hidden = 0;
  int64_t heads = 0;     // query heads
  int64_t kv_heads = 0;  // key/value heads = prunable groups
  int64_t head_dim = 0;
  int64_t heads_per_group() const { return heads / kv_heads; }
  // Parameters one group couples: q and o each heads_per_group·head_dim·hidden, k and v head_dim·hidden.
  int64_t parameters_per_group() const { return hidden * head_dim * (2 * heads_per_group() + 2); }
};

// The layer's geometry from its own LayerShape, checked against its weights' shapes; errors name the
// layer (`model.layers.<index>`).
AttentionGeometry attention_geometry(const DecoderLayer& layer, int64_t head_dim, int64_t hidden,
                                     int64_t layer_index);
// Checks gate/up/down against layer.shape.intermediate_size; returns it.
int64_t mlp_width(const DecoderLayer& layer, int64_t hidden, int64_t layer_index);

// Parameters one MLP channel couples: a gate row, an up row and a down column.
inline int64_t parameters_per_mlp_channel(int64_t hidden) { return 3 * hidden; }

// Rows of q_proj (= columns of o_proj) of the query heads in `groups`, in order.
at::Tensor query_rows(const AttentionGeometry& geometry, const std::vector<int64_t>& groups);
// Rows of k_proj and v_proj of the key/value heads `groups`, in order.
at::Tensor key_value_rows(const AttentionGeometry& geometry, const std::vector<int64_t>& groups);

// HF module name of a layer's linear, e.g. "model.layers.3.self_attn.q_proj".
std::string linear_name(int64_t layer_index, const std::string& module);

}  // namespace compactmind::llm_pruner
