// Int8Linear: the real int8 path (oneDNN s8×s8→s32) against its fake-quant reference and against
// hand-computed SmoothQuant quantization.
#include "compactmind/int8_linear.h"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

using namespace compactmind;

namespace {

// Max |a - b| relative to max |b|.
double relative_max_error(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

at::Tensor outlier_input(int64_t batch, int64_t tokens, int64_t features) {
  at::Tensor input = at::randn({batch, tokens, features});
  // A few large channels, as in LLM activations, so that per-tensor scales are really coarse.
  input.select(2, 3).mul_(40.0);
  input.select(2, features - 1).mul_(25.0);
  return input;
}

}  // namespace

TEST_CASE("Int8Linear quantizes weights as SmoothQuant's abs-max quantizers", "[int8]") {
  at::manual_seed(1);
  const at::Tensor weight = at::randn({48, 64});
  auto per_channel = Int8Linear::quantize(weight, WeightQuant::kPerChannel, {});
  const at::Tensor expected_scale = weight.abs().amax(1).clamp_min(1e-5) / 127.0;
  CHECK(at::allclose(per_channel->weight_scale(), expected_scale));
  CHECK(at::equal(per_channel->weight(), at::round(weight / expected_scale.view({-1, 1})).to(at::kChar)));
  CHECK(per_channel->weight().abs().amax(1).eq(127).all().item<bool>());  // every row reaches ±127
  CHECK(per_channel->weight_quant() == WeightQuant::kPerChannel);

  auto per_tensor = Int8Linear::quantize(weight, WeightQuant::kPerTensor, {});
  REQUIRE(per_tensor->weight_scale().numel() == 1);
  CHECK(per_tensor->weight_scale().item<float>() == Approx(weight.abs().max().item<float>() / 127.0f));
  CHECK(per_tensor->weight_quant() == WeightQuant::kPerTensor);

  // Dequantized weight within half a step of the original.
  CHECK((per_channel->dense_weight() - weight).abs().le(expected_scale.view({-1, 1}) / 2 + 1e-7).all().item<bool>());
  // Checkpoint tensors: int8 weight + fp32 scales in compressed-tensors shapes; 1 byte/weight.
  const auto state = per_channel->state();
  REQUIRE(state.size() == 2);
  CHECK(state[0].first == "weight");
  CHECK(state[0].second.scalar_type() == at::kChar);
  CHECK(state[1].first == "weight_scale");
  CHECK(state[1].second.scalar_type() == at::kFloat);
  CHECK(state[1].second.sizes() == at::IntArrayRef({48, 1}));
  CHECK(per_tensor->state()[1].second.sizes() == at::IntArrayRef({1}));
  CHECK(per_channel->stored_bytes(at::kHalf) == 48 * 64 + 48 * 4);
  CHECK(per_channel->kind() == "w8a8");
}

TEST_CASE("Int8Linear real int8 GEMM agrees with the fake-quant reference", "[int8]") {
  at::manual_seed(2);
  const int64_t in = 320, out = 200;
  const at::Tensor weight = at::randn({out, in}) * 0.05;
  const at::Tensor input = outlier_input(3, 37, in);
  for (auto act : {ActQuant::kPerToken, ActQuant::kPerTensor}) {
    for (auto wq : {WeightQuant::kPerChannel, WeightQuant::kPerTensor}) {
      DYNAMIC_SECTION(to_string(act) << " activations, " << to_string(wq) << " weights") {
        auto layer = Int8Linear::quantize(weight, wq, {act, false});
        REQUIRE(layer->execution() == Int8Execution::kInt8Gemm);
        const at::Tensor real = layer->forward(input);
        layer->set_execution(Int8Execution::kFakeQuant);
        const at::Tensor fake = layer->forward(input);
        REQUIRE(real.sizes() == at::IntArrayRef({3, 37, out}));
        // Same integers, exact int32 accumulation: only fp32 rounding of the reference differs.
        CHECK(relative_max_error(real, fake) < 2e-6);
        // And quantization really happened: the result differs from the float layer.
        const at::Tensor dense = at::matmul(input, weight.t());
        CHECK(relative_max_error(real, dense) > 1e-4);
      }
    }
  }
}

TEST_CASE("Int8Linear per-token quantization matches a hand computation", "[int8]") {
  // Two tokens, two features, identity-like weights: the outputs are the quantized inputs.
  const at::Tensor weight = at::eye(2);
  auto layer = Int8Linear::quantize(weight, WeightQuant::kPerChannel, {ActQuant::kPerToken, false});
  const at::Tensor input = at::tensor({1.0f, 0.3f, -2.0f, 0.01f}).view({2, 2});
  const at::Tensor output = layer->forward(input);
  // Token 0: scale 1/127, 0.3·127 = 38.1 → 38. Token 1: scale 2/127, 0.01·63.5 = 0.635 → 1.
  const at::Tensor expected = at::tensor({1.0f, 38.0f / 127.0f, -2.0f, 2.0f / 127.0f}).view({2, 2});
  CHECK(at::allclose(output, expected, 1e-6, 1e-7));

  // Per tensor over the same 2-D input: one scale 2/127 for both tokens.
  auto per_tensor = Int8Linear::quantize(weight, WeightQuant::kPerChannel, {ActQuant::kPerTensor, false});
  const float step = 2.0f / 127.0f;
  const at::Tensor expected_tensor =
      at::tensor({std::nearbyint(1.0f / step) * step, std::nearbyint(0.3f / step) * step, -2.0f, std::nearbyint(0.01f / step) * step}).view({2, 2});
  CHECK(at::allclose(per_tensor->forward(input), expected_tensor, 1e-6, 1e-7));
}

TEST_CASE("Int8Linear per-tensor activation scales are per sequence", "[int8]") {
  at::manual_seed(3);
  const at::Tensor weight = at::randn({16, 32});
  auto layer = Int8Linear::quantize(weight, WeightQuant::kPerChannel, {ActQuant::kPerTensor, false});
  at::Tensor batch = at::randn({2, 5, 32});
  batch[1].mul_(100.0);  // a loud sequence must not coarsen its neighbour's scale
  const at::Tensor together = layer->forward(batch);
  const at::Tensor alone = layer->forward(batch[0].unsqueeze(0));
  CHECK(at::equal(together[0], alone[0]));
}

TEST_CASE("Int8Linear output quantization (quantized BMM input) matches the reference", "[int8]") {
  at::manual_seed(4);
  const at::Tensor weight = at::randn({96, 128}) * 0.1;
  const at::Tensor input = outlier_input(2, 64, 128);
  for (auto act : {ActQuant::kPerToken, ActQuant::kPerTensor}) {
    auto layer = Int8Linear::quantize(weight, WeightQuant::kPerChannel, {act, true});
    const at::Tensor real = layer->forward(input);
    layer->set_execution(Int8Execution::kFakeQuant);
    const at::Tensor fake = layer->forward(input);
    // An output within fp32 rounding of a rounding boundary may land one step apart; the steps
    // themselves are per token, so compare with the output's own quantization step.
    const at::Tensor step = fake.abs().amax(-1, true) / 127.0;
    const at::Tensor diff = (real - fake).abs();
    CHECK(diff.le(step * 1.0001).all().item<bool>());
    CHECK(diff.gt(step * 1e-3).to(at::kFloat).mean().item<double>() < 1e-3);
    // The output really sits on the quantization grid (per token: ≤ 255 distinct values a row).
    if (act == ActQuant::kPerToken) {
      const at::Tensor levels = real[0][0] / (real[0][0].abs().max() / 127.0);
      CHECK((levels - at::round(levels)).abs().max().item<double>() < 1e-3);
    }
  }
}

TEST_CASE("Int8Linear handles single tokens and empty layers and rejects bad inputs", "[int8]") {
  at::manual_seed(5);
  const at::Tensor weight = at::randn({24, 40});
  auto layer = Int8Linear::quantize(weight, WeightQuant::kPerChannel, {});
  const at::Tensor token = at::randn({1, 1, 40});
  const at::Tensor real = layer->forward(token);
  auto copy = layer->clone();
  auto* int8_copy = dynamic_cast<Int8Linear*>(copy.get());
  REQUIRE(int8_copy != nullptr);
  CHECK(at::equal(int8_copy->weight(), layer->weight()));
  CHECK(int8_copy->weight().data_ptr() != layer->weight().data_ptr());
  int8_copy->set_execution(Int8Execution::kFakeQuant);
  CHECK(relative_max_error(real, copy->forward(token)) < 2e-6);
  CHECK(layer->forward(at::zeros({0, 40})).sizes() == at::IntArrayRef({0, 24}));
  // A layer pruned to no outputs still works (and saves) as an int8 layer.
  for (auto wq : {WeightQuant::kPerChannel, WeightQuant::kPerTensor}) {
    auto empty = Int8Linear::quantize(at::zeros({0, 40}), wq, {});
    CHECK(empty->forward(token).sizes() == at::IntArrayRef({1, 1, 0}));
  }

  CHECK_THROWS_WITH(layer->forward(at::randn({2, 41})),
                    Catch::Contains("input has 41 features, the layer expects 40"));
  CHECK_THROWS_WITH(Int8Linear(at::zeros({4, 8}, at::kChar), at::ones({3}), {}, "model.layers.0.mlp.up_proj"),
                    Catch::Contains("model.layers.0.mlp.up_proj: weight_scale of shape [3]"));
  CHECK_THROWS_WITH(Int8Linear(at::zeros({4, 8}), at::ones({4}), {}, "q"),
                    Catch::Contains("q: weight must be int8"));
  CHECK_THROWS_WITH(parse_act_quant("per_row"), Catch::Contains("'per_row' is not one of per_token, per_tensor"));
  CHECK_THROWS_WITH(parse_weight_quant("per_group"), Catch::Contains("'per_group' is not one of per_channel, per_tensor"));
}
