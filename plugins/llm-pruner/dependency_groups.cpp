#include "dependency_groups.h"

#include <sstream>
#include <stdexcept>

namespace compactmind::llm_pruner {

namespace {

void expect_shape(const Linear& linear, int64_t out_features, int64_t in_features,
                  const std::string& name, const std::string& because) {
  if (linear.out_features() != out_features || linear.in_features() != in_features) {
    std::ostringstream message;
    message << "llm-pruner: " << name << " is [" << linear.out_features() << ", "
            << linear.in_features() << "], but " << because << " gives [" << out_features << ", "
            << in_features << "]";
    throw std::invalid_argument(message.str());
  }
}

at::Tensor block_rows(const std::vector<int64_t>& blocks, int64_t block_size) {
  std::vector<int64_t> rows;
  rows.reserve(blocks.size() * block_size);
  for (int64_t block : blocks) {
    for (int64_t offset = 0; offset < block_size; ++offset) rows.push_back(block * block_size + offset);
  }
  return at::tensor(rows, at::kLong);
}

}  // namespace

std::string linear_name(int64_t layer_index, const std::string& module) {
  const bool attention = module == "q_proj" || module == "k_proj" || module == "v_proj" ||
                         module == "o_proj";
  return "model.layers." + std::to_string(layer_index) + (attention ? ".self_attn." : ".mlp.") + module;
}

AttentionGeometry attention_geometry(const DecoderLayer& layer, int64_t head_dim, int64_t hidden,
                                     int64_t layer_index) {
  AttentionGeometry geometry{hidden, layer.shape.num_attention_heads, layer.shape.num_key_value_heads,
                             head_dim};
  if (geometry.kv_heads <= 0 || geometry.heads % geometry.kv_heads != 0) {
    std::ostringstream message;
    message << "llm-pruner: model.layers." << layer_index << " has " << geometry.heads
            << " query heads and " << geometry.kv_heads
            << " key/value heads; grouped-query attention needs the first to be a multiple of the second";
    throw std::invalid_argument(message.str());
  }
  const std::string because = "the layer's shape (" + std::to_string(geometry.heads) + " heads, " +
                              std::to_string(geometry.kv_heads) + " kv heads, head_dim " +
                              std::to_string(head_dim) + ")";
  const int64_t q_width = geometry.heads * head_dim;
  const int64_t kv_width = geometry.kv_heads * head_dim;
  expect_shape(*layer.q_proj, q_width, hidden, linear_name(layer_index, "q_proj"), because);
  expect_shape(*layer.k_proj, kv_width, hidden, linear_name(layer_index, "k_proj"), because);
  expect_shape(*layer.v_proj, kv_width, hidden, linear_name(layer_index, "v_proj"), because);
  expect_shape(*layer.o_proj, hidden, q_width, linear_name(layer_index, "o_proj"), because);
  return geometry;
}

int64_t mlp_width(const DecoderLayer& layer, int64_t hidden, int64_t layer_index) {
  const int64_t width = layer.shape.intermediate_size;
  const std::string because = "the layer's intermediate_size " + std::to_string(width);
  expect_shape(*layer.gate_proj, width, hidden, linear_name(layer_index, "gate_proj"), because);
  expect_shape(*layer.up_proj, width, hidden, linear_name(layer_index, "up_proj"), because);
  expect_shape(*layer.down_proj, hidden, width, linear_name(layer_index, "down_proj"), because);
  return width;
}

at::Tensor query_rows(const AttentionGeometry& geometry, const std::vector<int64_t>& groups) {
  return block_rows(groups, geometry.heads_per_group() * geometry.head_dim);
}

at::Tensor key_value_rows(const AttentionGeometry& geometry, const std::vector<int64_t>& groups) {
  return block_rows(groups, geometry.head_dim);
}

}  // namespace compactmind::llm_pruner
