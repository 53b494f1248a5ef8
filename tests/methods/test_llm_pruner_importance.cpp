// LLM-Pruner's importance, ranking and settings on hand-made weights: each case is built so that the
// criterion or aggregation under test picks a different group than the alternatives would.
#include "dependency_groups.h"
#include "importance.h"
#include "pruning_settings.h"
#include "unit_selection.h"

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <string>
#include <vector>

using namespace compactmind::llm_pruner;

namespace {

std::vector<int64_t> lowest(const at::Tensor& importance, int64_t remove) {
  return lowest_importance(importance, remove);
}

// MLP weights of 2 channels over hidden 4 (gate/up rows, down columns), from per-channel rows.
MlpSaliences mlp_saliences(const std::vector<std::vector<float>>& gate_rows,
                           const std::vector<std::vector<float>>& up_rows,
                           const std::vector<std::vector<float>>& down_columns, Criterion criterion) {
  const auto matrix = [](const std::vector<std::vector<float>>& rows) {
    std::vector<at::Tensor> tensors;
    for (const auto& row : rows) tensors.push_back(at::tensor(row, at::kFloat));
    return at::stack(tensors);
  };
  const at::Tensor none;
  return {element_salience(matrix(gate_rows), none, criterion),
          element_salience(matrix(up_rows), none, criterion),
          element_salience(matrix(down_columns).t().contiguous(), none, criterion)};
}

}  // namespace

TEST_CASE("llm-pruner l1 and l2 rank a spiky channel against a flat one differently", "[llm-pruner][importance]") {
  // Channel 0 has one weight 3 (l1 3, l2 9); channel 1 four weights 1 (l1 4, l2 4).
  const std::vector<std::vector<float>> gate = {{3, 0, 0, 0}, {1, 1, 1, 1}};
  const std::vector<std::vector<float>> zero = {{0, 0, 0, 0}, {0, 0, 0, 0}};
  const at::Tensor l1 = mlp_channel_importance(mlp_saliences(gate, zero, zero, Criterion::kL1),
                                               Aggregation::kSum);
  const at::Tensor l2 = mlp_channel_importance(mlp_saliences(gate, zero, zero, Criterion::kL2),
                                               Aggregation::kSum);
  CHECK(l1[0].item<float>() == Approx(3.0f));
  CHECK(l1[1].item<float>() == Approx(4.0f));
  CHECK(l2[0].item<float>() == Approx(9.0f));  // squared norm, as LLM-Pruner's |w|^p without the root
  CHECK(l2[1].item<float>() == Approx(4.0f));
  CHECK(lowest(l1, 1) == std::vector<int64_t>{0});
  CHECK(lowest(l2, 1) == std::vector<int64_t>{1});
}

TEST_CASE("llm-pruner aggregation over a group's linears: sum and mean against max", "[llm-pruner][importance]") {
  // Channel 0: all its weight in gate (per-linear l1: 10, 0, 0). Channel 1: spread (4, 4, 4).
  const std::vector<std::vector<float>> gate = {{10, 0, 0, 0}, {4, 0, 0, 0}};
  const std::vector<std::vector<float>> up = {{0, 0, 0, 0}, {0, 4, 0, 0}};
  const std::vector<std::vector<float>> down = {{0, 0, 0, 0}, {0, 0, 4, 0}};
  const MlpSaliences saliences = mlp_saliences(gate, up, down, Criterion::kL1);
  const at::Tensor sum = mlp_channel_importance(saliences, Aggregation::kSum);
  const at::Tensor mean = mlp_channel_importance(saliences, Aggregation::kMean);
  const at::Tensor max = mlp_channel_importance(saliences, Aggregation::kMax);
  CHECK(sum[0].item<float>() == Approx(10.0f));
  CHECK(sum[1].item<float>() == Approx(12.0f));
  CHECK(mean[1].item<float>() == Approx(4.0f));
  CHECK(max[0].item<float>() == Approx(10.0f));
  CHECK(max[1].item<float>() == Approx(4.0f));
  CHECK(lowest(sum, 1) == std::vector<int64_t>{0});
  CHECK(lowest(mean, 1) == std::vector<int64_t>{0});
  CHECK(lowest(max, 1) == std::vector<int64_t>{1});
}

TEST_CASE("llm-pruner down_proj counts by column, gate/up by row", "[llm-pruner][importance]") {
  // down_proj [hidden 2, channels 3]: column 1 holds the only weight, so channel 1 is the important one.
  const at::Tensor none;
  const at::Tensor gate = at::zeros({3, 2});
  const at::Tensor down = at::tensor({0.0f, 5.0f, 0.0f, 0.0f, 0.0f, 0.0f}).view({2, 3});
  const at::Tensor importance = mlp_channel_importance(
      {element_salience(gate, none, Criterion::kL1), element_salience(gate, none, Criterion::kL1),
       element_salience(down, none, Criterion::kL1)},
      Aggregation::kSum);
  CHECK(importance[1].item<float>() == Approx(5.0f));
  CHECK(lowest(importance, 2) == std::vector<int64_t>{0, 2});
}

TEST_CASE("llm-pruner taylor salience is |w·g| per weight, summed after the absolute value", "[llm-pruner][importance]") {
  // Channel 0: w = [1, -1], g = [1, 1] → |1| + |-1| = 2 (LLM-Pruner's param_first; the vectorised
  // |Σ w·g| would give 0). Channel 1: w = [1, 1], g = [0.5, 0.5] → 1. Magnitude alone ties them.
  const at::Tensor weight = at::tensor({1.0f, -1.0f, 1.0f, 1.0f}).view({2, 2});
  const at::Tensor grad = at::tensor({1.0f, 1.0f, 0.5f, 0.5f}).view({2, 2});
  const at::Tensor salience = element_salience(weight, grad, Criterion::kTaylor);
  const at::Tensor zero = at::zeros({2, 2});
  const at::Tensor importance = mlp_channel_importance({salience, zero, zero}, Aggregation::kSum);
  CHECK(importance[0].item<float>() == Approx(2.0f));
  CHECK(importance[1].item<float>() == Approx(1.0f));
  CHECK(lowest(importance, 1) == std::vector<int64_t>{1});
  CHECK_THROWS_WITH(element_salience(weight, at::Tensor(), Criterion::kTaylor),
                    Catch::Contains("needs the weight's gradient"));
}

TEST_CASE("llm-pruner attention groups: GQA couples the query heads of a key/value head", "[llm-pruner][importance]") {
  // hidden 4, 4 query heads, 2 key/value heads, head_dim 2: group g = query heads {2g, 2g+1}.
  const AttentionGeometry geometry{4, 4, 2, 2};
  CHECK(geometry.heads_per_group() == 2);
  CHECK(geometry.parameters_per_group() == 4 * 2 * (2 * 2 + 2));
  CHECK(query_rows(geometry, {1}).equal(at::tensor({4, 5, 6, 7}, at::kLong)));
  CHECK(key_value_rows(geometry, {0, 1}).equal(at::tensor({0, 1, 2, 3}, at::kLong)));

  const at::Tensor none;
  const auto zeros = [](int64_t rows, int64_t cols) { return at::zeros({rows, cols}); };
  SECTION("query head 3's rows make group 1 important") {
    at::Tensor q = zeros(8, 4);
    q[6][0] = 2.0f;  // head 3 = rows 6, 7
    const at::Tensor importance = attention_group_importance(
        {element_salience(q, none, Criterion::kL1), zeros(4, 4), zeros(4, 4), zeros(4, 8)}, geometry,
        Aggregation::kSum);
    CHECK(importance[0].item<float>() == Approx(0.0f));
    CHECK(importance[1].item<float>() == Approx(2.0f));
    CHECK(lowest(importance, 1) == std::vector<int64_t>{0});
  }
  SECTION("o_proj counts by column, k/v by the key/value head's rows") {
    at::Tensor o = zeros(4, 8);
    o[3][1] = 1.0f;  // column 1 = head 0 → group 0
    at::Tensor k = zeros(4, 4);
    k[3][2] = 1.5f;  // row 3 = kv head 1 → group 1
    const at::Tensor importance = attention_group_importance(
        {zeros(8, 4), element_salience(k, none, Criterion::kL1), zeros(4, 4),
         element_salience(o, none, Criterion::kL1)},
        geometry, Aggregation::kSum);
    CHECK(importance[0].item<float>() == Approx(1.0f));
    CHECK(importance[1].item<float>() == Approx(1.5f));
  }
  SECTION("max aggregates per head dimension across linears, then sums the dimensions") {
    // Group 0: q has 3 in dimension 0 and o has 3 in dimension 1 → max per dimension (3, 3) → 6.
    // Group 1: q has 5 in dimension 0 only → 5. Sum would give 6 and 5 as well; mean 1.5 and 1.25.
    at::Tensor q = zeros(8, 4);
    q[0][0] = 3.0f;  // head 0, dim 0
    q[4][0] = 5.0f;  // head 2 (group 1), dim 0
    at::Tensor o = zeros(4, 8);
    o[0][1] = 3.0f;  // head 0, dim 1
    const AttentionSaliences saliences{element_salience(q, none, Criterion::kL1), zeros(4, 4),
                                       zeros(4, 4), element_salience(o, none, Criterion::kL1)};
    const at::Tensor max = attention_group_importance(saliences, geometry, Aggregation::kMax);
    const at::Tensor mean = attention_group_importance(saliences, geometry, Aggregation::kMean);
    CHECK(max[0].item<float>() == Approx(6.0f));
    CHECK(max[1].item<float>() == Approx(5.0f));
    CHECK(mean[0].item<float>() == Approx(1.5f));
    CHECK(mean[1].item<float>() == Approx(1.25f));
  }
}

TEST_CASE("llm-pruner removal count rounds to nearest and keeps one unit", "[llm-pruner][selection]") {
  CHECK(removal_count(0.25, 8) == 2);
  CHECK(removal_count(0.3, 8) == 2);   // 2.4
  CHECK(removal_count(0.2, 4) == 1);   // 0.8
  CHECK(removal_count(0.1, 4) == 0);   // 0.4
  CHECK(removal_count(0.6, 2) == 1);   // 1.2
  CHECK(removal_count(0.6, 1) == 0);   // a single group is never removed
  CHECK(removal_count(0.99, 4) == 3);  // capped at count − 1
  CHECK(removal_count(0.0, 768) == 0);
  CHECK(removal_count(0.42, 768) == 323);  // 322.56
}

TEST_CASE("llm-pruner lowest importance breaks ties by index and returns sorted indices", "[llm-pruner][selection]") {
  const at::Tensor importance = at::tensor({3.0, 1.0, 1.0, 0.5, 1.0});
  CHECK(lowest_importance(importance, 2) == std::vector<int64_t>{1, 3});
  CHECK(lowest_importance(importance, 3) == std::vector<int64_t>{1, 2, 3});
  CHECK(complement(5, {1, 3}) == std::vector<int64_t>{0, 2, 4});
}

TEST_CASE("llm-pruner random importance is reproducible from the seed", "[llm-pruner][importance]") {
  std::mt19937_64 a(7), b(7), c(8);
  const at::Tensor first = random_importance(16, a);
  CHECK(first.equal(random_importance(16, b)));
  CHECK_FALSE(first.equal(random_importance(16, c)));
  CHECK(first.min().item<double>() >= 0.0);
  CHECK(first.max().item<double>() < 1.0);
}

TEST_CASE("llm-pruner automatic layer range scales LLM-Pruner's layers 4 to 30 of 32", "[llm-pruner][settings]") {
  const auto range = [](int64_t depth) {
    const LayerRange r = auto_layer_range(depth);
    return std::vector<int64_t>{r.start, r.end};
  };
  CHECK(range(32) == std::vector<int64_t>{4, 30});  // the paper's recipe
  CHECK(range(22) == std::vector<int64_t>{3, 21});  // TinyLlama-1.1B
  CHECK(range(6) == std::vector<int64_t>{1, 5});    // tiny-llama2: first and last layer kept
  CHECK(range(4) == std::vector<int64_t>{1, 3});    // tiny-gqa
  CHECK(range(2) == std::vector<int64_t>{0, 2});
}

TEST_CASE("llm-pruner bad settings are refused with the parameter and the model's depth", "[llm-pruner][settings]") {
  CHECK_THROWS_WITH(validate_ratio(0.7),
                    Catch::Contains("ratio=0.7") && Catch::Contains("outside the declared space [0, 0.6]"));
  CHECK_THROWS_WITH(validate_ratio(-0.1), Catch::Contains("ratio=-0.1"));
  CHECK_NOTHROW(validate_ratio(0.6));

  PruneSettings settings;
  settings.layer_end = 7;
  CHECK_THROWS_WITH(resolve_layer_range(settings, 6),
                    Catch::Contains("layer_end=7") && Catch::Contains("6 decoder layers") &&
                        Catch::Contains("valid: 1..6"));
  settings.layer_end = kAutoLayer;
  settings.layer_start = 6;
  CHECK_THROWS_WITH(resolve_layer_range(settings, 6),
                    Catch::Contains("layer_start=6") && Catch::Contains("6 decoder layers"));
  settings.layer_start = 4;
  settings.layer_end = 2;
  CHECK_THROWS_WITH(resolve_layer_range(settings, 6),
                    Catch::Contains("layer_start=4 must be below layer_end=2") &&
                        Catch::Contains("6 decoder layers"));
  settings.layer_start = 0;
  settings.layer_end = kAutoLayer;
  const LayerRange range = resolve_layer_range(settings, 6);
  CHECK(range.start == 0);
  CHECK(range.end == 5);

  CHECK_THROWS_WITH(parse_criterion("l3"), Catch::Contains("importance='l3'") &&
                                               Catch::Contains("l2, l1, taylor, random"));
  CHECK_THROWS_WITH(parse_target("heads"), Catch::Contains("target='heads'"));
  CHECK_THROWS_WITH(parse_aggregation("prod"), Catch::Contains("aggregation='prod'"));
}
