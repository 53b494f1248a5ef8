#include "structural_slicing.h"

namespace compactmind::llm_pruner {

namespace {

// A fresh contiguous tensor (no autograd history, no view of the old storage, which is then freed).
void slice_weight(Linear& linear, int64_t dim, const at::Tensor& indices, const std::string& name) {
  DenseLinear& dense = as_dense(linear, name);
  dense.weight =
      dense.weight.detach().index_select(dim, indices.to(dense.weight.device())).contiguous();
}

}  // namespace

void keep_attention_groups(DecoderLayer& layer, const AttentionGeometry& geometry,
                           const std::vector<int64_t>& kept, int64_t layer_index) {
  const at::Tensor q_rows = query_rows(geometry, kept);
  const at::Tensor kv_rows = key_value_rows(geometry, kept);
  slice_weight(*layer.q_proj, 0, q_rows, linear_name(layer_index, "q_proj"));
  slice_weight(*layer.k_proj, 0, kv_rows, linear_name(layer_index, "k_proj"));
  slice_weight(*layer.v_proj, 0, kv_rows, linear_name(layer_index, "v_proj"));
  slice_weight(*layer.o_proj, 1, q_rows, linear_name(layer_index, "o_proj"));
  layer.shape.num_key_value_heads = static_cast<int64_t>(kept.size());
  layer.shape.num_attention_heads = static_cast<int64_t>(kept.size()) * geometry.heads_per_group();
}

void keep_mlp_channels(DecoderLayer& layer, const std::vector<int64_t>& kept, int64_t layer_index) {
  const at::Tensor channels = at::tensor(kept, at::kLong);
  slice_weight(*layer.gate_proj, 0, channels, linear_name(layer_index, "gate_proj"));
  slice_weight(*layer.up_proj, 0, channels, linear_name(layer_index, "up_proj"));
  slice_weight(*layer.down_proj, 1, channels, linear_name(layer_index, "down_proj"));
  layer.shape.intermediate_size = static_cast<int64_t>(kept.size());
}

}  // namespace compactmind::llm_pruner
