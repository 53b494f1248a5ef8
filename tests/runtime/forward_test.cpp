// LlamaModel::forward against transformers (reference/<model>.logits.safetensors): logits, hidden
// states per layer, greedy decoding with the KV cache; plus the properties the compression methods rely
// on (per-layer shapes, autograd, observers).
#include "reference.h"

#include "compactmind/generation.h"
#include "compactmind/llama_model.h"

#include <catch2/catch.hpp>

#include <c10/core/InferenceMode.h>

#include <map>
#include <set>

using namespace compactmind;

namespace {

constexpr double kTolerance = 1e-4;  // max abs difference to transformers' float32 logits

void check_against_transformers(const std::string& model_name) {
  const LlamaModel model = LlamaModel::load(test::model_dir(model_name));
  const test::Reference reference = test::load_reference(model_name);
  const c10::InferenceMode inference;

  std::vector<at::Tensor> hidden_states;
  ForwardOptions options;
  options.hidden_states = &hidden_states;
  const at::Tensor logits_a = model.forward(reference.ids_a, options);
  REQUIRE(logits_a.sizes() == at::IntArrayRef({1, 128, model.config.vocab_size}));
  CHECK(test::max_abs_difference(logits_a[0], reference.logits_a) < kTolerance);

  REQUIRE(static_cast<int64_t>(hidden_states.size()) == reference.hidden_a.size(0));
  for (size_t layer = 0; layer < hidden_states.size(); ++layer) {
    INFO("hidden state " << layer);
    CHECK(test::max_abs_difference(hidden_states[layer][0], reference.hidden_a[layer]) < kTolerance);
  }

  const at::Tensor logits_b = model.forward(reference.ids_b);
  CHECK(test::max_abs_difference(logits_b[0], reference.logits_b) < kTolerance);
}

void check_greedy(const std::string& model_name) {
  const LlamaModel model = LlamaModel::load(test::model_dir(model_name));
  const test::Reference reference = test::load_reference(model_name);
  const auto* prompt = reference.greedy_prompt.data_ptr<int64_t>();
  const auto* expected = reference.greedy_out.data_ptr<int64_t>();
  GenerationOptions options;
  options.max_new_tokens = reference.greedy_out.size(1) - reference.greedy_prompt.size(1);
  const std::vector<int64_t> output =
      generate_greedy(model, std::vector<int64_t>(prompt, prompt + reference.greedy_prompt.size(1)), options);
  CHECK(output == std::vector<int64_t>(expected, expected + reference.greedy_out.size(1)));
}

}  // namespace

TEST_CASE("tiny-llama2 (MHA, untied) logits and hidden states match transformers", "[runtime][forward]") {
  check_against_transformers("tiny-llama2");
}

TEST_CASE("tiny-gqa (GQA, tied, bf16) logits and hidden states match transformers", "[runtime][forward]") {
  check_against_transformers("tiny-gqa");
}

TEST_CASE("greedy decoding with the KV cache equals transformers' (tiny-llama2)", "[runtime][generation]") {
  check_greedy("tiny-llama2");
}

TEST_CASE("greedy decoding with the KV cache equals transformers' (tiny-gqa)", "[runtime][generation]") {
  check_greedy("tiny-gqa");
}

TEST_CASE("the KV cache and batching give the same logits as one full pass", "[runtime][forward]") {
  const LlamaModel model = LlamaModel::load(test::model_dir("tiny-gqa"));
  const test::Reference reference = test::load_reference("tiny-gqa");
  const c10::InferenceMode inference;
  const at::Tensor ids = reference.ids_b;
  const at::Tensor full = model.forward(ids);
  REQUIRE(test::max_abs_difference(full[0], reference.logits_b) < kTolerance);

  // A prefix, then 200 tokens (more than one query chunk, after cached positions), then one token at
  // a time.
  KVCache cache;
  ForwardOptions cached;
  cached.cache = &cache;
  std::vector<at::Tensor> parts{model.forward(ids.narrow(1, 0, 50), cached),
                                model.forward(ids.narrow(1, 50, 200), cached)};
  for (int64_t position = 250; position < 256; ++position) parts.push_back(model.forward(ids.narrow(1, position, 1), cached));
  CHECK(cache.length == 256);
  CHECK(test::max_abs_difference(at::cat(parts, 1), full) < kTolerance);

  // Two different windows in one batch equal each on its own.
  const at::Tensor batch = at::cat({ids, reference.ids_a.repeat({1, 2})}, 0);
  const at::Tensor batched = model.forward(batch);
  CHECK(test::max_abs_difference(batched[0], full[0]) < kTolerance);
  CHECK(test::max_abs_difference(batched[1], model.forward(batch.narrow(0, 1, 1))[0]) < kTolerance);
}

namespace {

// Keeps rows [rows] of a [out, in] weight (dim 0) or columns (dim 1).
void keep(std::unique_ptr<Linear>& linear, int64_t dim, const at::Tensor& index) {
  linear = std::make_unique<DenseLinear>(as_dense(*linear, "test").weight.index_select(dim, index).contiguous());
}

// Zeroes rows/columns of a weight outside `index`, keeping its shape.
void zero_outside(std::unique_ptr<Linear>& linear, int64_t dim, const at::Tensor& index) {
  at::Tensor& weight = as_dense(*linear, "test").weight;
  const at::Tensor kept = weight.index_select(dim, index);
  at::Tensor zeroed = at::zeros_like(weight);
  zeroed.index_copy_(dim, index, kept);
  weight = zeroed;
}

}  // namespace

TEST_CASE("each layer runs with its own head count and MLP width; empty sub-blocks are skipped",
          "[runtime][forward]") {
  // Removing whole heads/channels must equal zeroing their contribution to the residual stream: that
  // is what structured pruning relies on. tiny-gqa: 8 query heads in 2 key/value groups, head_dim 32.
  LlamaModel pruned = LlamaModel::load(test::model_dir("tiny-gqa"));
  LlamaModel zeroed = pruned.clone();
  const int64_t head_dim = pruned.config.head_dim;
  const at::Tensor second_group_queries = at::arange(4 * head_dim, 8 * head_dim, at::kLong);
  const at::Tensor second_group_kv = at::arange(head_dim, 2 * head_dim, at::kLong);
  const at::Tensor half_channels = at::arange(0, 768, 2, at::kLong);

  // Layer 0: keep only the second key/value group (4 query heads, 1 kv head) and half the MLP.
  DecoderLayer& layer0 = pruned.layers[0];
  keep(layer0.q_proj, 0, second_group_queries);
  keep(layer0.k_proj, 0, second_group_kv);
  keep(layer0.v_proj, 0, second_group_kv);
  keep(layer0.o_proj, 1, second_group_queries);
  keep(layer0.gate_proj, 0, half_channels);
  keep(layer0.up_proj, 0, half_channels);
  keep(layer0.down_proj, 1, half_channels);
  layer0.shape = {4, 1, 384};
  zero_outside(zeroed.layers[0].o_proj, 1, second_group_queries);
  zero_outside(zeroed.layers[0].down_proj, 1, half_channels);

  // Layer 2: no attention at all, and no MLP.
  const at::Tensor none = at::empty({0}, at::kLong);
  DecoderLayer& layer2 = pruned.layers[2];
  for (auto* linear : {&layer2.q_proj, &layer2.k_proj, &layer2.v_proj, &layer2.gate_proj, &layer2.up_proj}) {
    keep(*linear, 0, none);
  }
  keep(layer2.o_proj, 1, none);
  keep(layer2.down_proj, 1, none);
  layer2.shape = {0, 0, 0};
  zero_outside(zeroed.layers[2].o_proj, 1, none);
  zero_outside(zeroed.layers[2].down_proj, 1, none);

  const test::Reference reference = test::load_reference("tiny-gqa");
  const c10::InferenceMode inference;
  const at::Tensor expected = zeroed.forward(reference.ids_a);
  CHECK(test::max_abs_difference(pruned.forward(reference.ids_a), expected) < kTolerance);
  // And the pruning did change the model (the test can fail).
  CHECK(test::max_abs_difference(expected[0], reference.logits_a) > 1e-2);
}

TEST_CASE("the forward is differentiable and observers see every linear's input", "[runtime][forward]") {
  LlamaModel model = LlamaModel::load(test::model_dir("tiny-llama2"));
  for (at::Tensor& parameter : model.trainable_parameters()) parameter.requires_grad_(true);
  const test::Reference reference = test::load_reference("tiny-llama2");
  const at::Tensor ids = reference.ids_b.narrow(1, 0, 160);  // more than one query chunk

  std::map<std::string, std::vector<int64_t>> observed;
  const LinearInputObserver observer = [&](const std::string& name, const at::Tensor& input) {
    observed[name] = input.sizes().vec();
  };
  ForwardOptions options;
  options.observer = &observer;
  const at::Tensor logits = model.forward(ids, options);
  CHECK(test::max_abs_difference(logits[0].detach(), reference.logits_b.narrow(0, 0, 160)) < kTolerance);

  // 7 linears per layer plus the untied lm_head, each seen with its input width.
  CHECK(observed.size() == 7 * model.layers.size() + 1);
  CHECK(observed.at("model.layers.5.mlp.down_proj") == std::vector<int64_t>{1, 160, 768});
  CHECK(observed.at("model.layers.0.self_attn.o_proj") == std::vector<int64_t>{1, 160, 256});
  CHECK(observed.at("lm_head") == std::vector<int64_t>{1, 160, 256});

  const at::Tensor loss = at::cross_entropy_loss(logits[0].narrow(0, 0, 159), ids[0].narrow(0, 1, 159));
  loss.backward();
  const at::Tensor& q_grad = as_dense(*model.layers[0].q_proj, "test").weight.grad();
  REQUIRE(q_grad.defined());
  CHECK(q_grad.abs().sum().item<double>() > 0);
  CHECK(at::isfinite(model.embed_tokens.grad()).all().item<bool>());
  CHECK(model.layers[3].input_layernorm.grad().abs().sum().item<double>() > 0);
}
