// LoRA adapters on tiny-llama2: identity at start, merging preserves the function, only adapters
// train, pruned (per-layer) dimensions work.
#include "compactmind/lora.h"
#include "compactmind/threads.h"
#include "compactmind/training.h"

#include "retraining_fixtures.h"

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include <iostream>

namespace {

at::Tensor sample_ids() { return retraining_test::held_out_windows(2, 32); }

double max_abs_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("freshly wrapped LoRA layers compute what the dense model did", "[retraining][lora]") {
  compactmind::LlamaModel model = retraining_test::tiny_llama2();
  const at::Tensor ids = sample_ids();
  const at::Tensor dense_logits = model.forward(ids);
  compactmind::LoraOptions options;  // rank 8 on all seven linears of each layer
  const std::vector<at::Tensor> adapters = compactmind::apply_lora(model, options, 0);
  CHECK(adapters.size() == model.layers.size() * 7 * 2);
  CHECK(model.layers[0].q_proj->kind() == "lora");
  CHECK(model.lm_head->kind() == "dense");  // lm_head never gets an adapter
  at::NoGradGuard no_grad;
  CHECK(max_abs_difference(model.forward(ids), dense_logits) < 1e-5);  // B = 0
}

TEST_CASE("merged LoRA model logits equal the adapter model's", "[retraining][lora]") {
  retraining_test::use_one_thread();
  compactmind::LlamaModel model = retraining_test::tiny_llama2();
  compactmind::LoraOptions options;
  options.rank = 4;
  options.alpha = 8.0;
  const std::vector<at::Tensor> adapters = compactmind::apply_lora(model, options, 7);
  {
    // Non-zero B everywhere, as after training (seeded; large enough to move the logits clearly, of
    // the size a short training gives, so that float32 rounding stays that of a normal model).
    at::NoGradGuard no_grad;
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(11);
    for (size_t i = 1; i < adapters.size(); i += 2) adapters[i].normal_(0.0, 0.02, generator);
  }
  const at::Tensor ids = sample_ids();
  at::NoGradGuard no_grad;
  const at::Tensor adapter_logits = model.forward(ids);
  const compactmind::LlamaModel reference = retraining_test::tiny_llama2();
  const double moved = max_abs_difference(adapter_logits, reference.forward(ids));
  std::cout << "adapter vs base logits: max |Δ| = " << moved << "\n";
  CHECK(moved > 1e-2);  // the adapters matter

  CHECK(compactmind::merge_lora(model) == static_cast<int64_t>(model.layers.size() * 7));
  for (const auto& [name, linear] : model.named_linears()) {
    INFO(name);
    CHECK(linear->kind() == "dense");
  }
  const at::Tensor merged_logits = model.forward(ids);
  std::cout << "merged vs adapter logits: max |Δ| = " << max_abs_difference(merged_logits, adapter_logits)
            << " (max |logit| " << adapter_logits.abs().max().item<double>() << ")\n";
  // 1e-5 relative and absolute: x·Wᵀ + s·(x·Aᵀ)·Bᵀ and x·(W + s·B·A)ᵀ round differently in float32,
  // which over six layers reaches ~1.4e-5 on logits up to ~15 (measured).
  CHECK(at::allclose(merged_logits, adapter_logits, /*rtol=*/1e-5, /*atol=*/1e-5));
}

TEST_CASE("LoRA training changes only the target linears", "[retraining][lora]") {
  retraining_test::use_one_thread();
  compactmind::LlamaModel model = retraining_test::tiny_llama2();
  const auto before = retraining_test::all_weights(model);
  compactmind::TrainingOptions options;
  options.mode = compactmind::TrainingMode::kLora;
  options.lora.targets = compactmind::LoraTargets::kAttention;
  options.lora.rank = 4;
  options.lr = 1e-2;
  options.steps = 3;
  options.batch = 2;
  options.seqlen = 32;
  const compactmind::TrainingReport report = compactmind::train_model(
      model, retraining_test::training_tokens(), options, &compactmind::causal_lm_loss, "finetune");
  // 6 layers × q/k/v/o × rank 4 × (in 256 + out 256)
  CHECK(report.trained_parameters == 6 * 4 * 4 * 512);
  const auto after = retraining_test::all_weights(model);
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    const std::string& name = before[i].first;
    INFO(name);
    const bool target = name.find("self_attn") != std::string::npos;
    CHECK(at::equal(before[i].second, after[i].second) != target);
    CHECK_FALSE(after[i].second.requires_grad());
  }
  for (const auto& [name, linear] : model.named_linears()) CHECK(linear->kind() == "dense");
}

TEST_CASE("LoRA and full training work on a pruned model with per-layer dimensions",
          "[retraining][lora]") {
  retraining_test::use_one_thread();
  compactmind::LlamaModel model = retraining_test::tiny_llama2();
  {
    // Layer 1 keeps 6 of 8 heads and 512 of 768 MLP channels, as structured pruning leaves it.
    compactmind::DecoderLayer& layer = model.layers[1];
    const int64_t kept_rows = 6 * model.config.head_dim;
    for (auto* projection : {&layer.q_proj, &layer.k_proj, &layer.v_proj}) {
      auto& dense = compactmind::as_dense(**projection, "test");
      dense.weight = dense.weight.narrow(0, 0, kept_rows).contiguous();
    }
    auto& o_proj = compactmind::as_dense(*layer.o_proj, "test");
    o_proj.weight = o_proj.weight.narrow(1, 0, kept_rows).contiguous();
    for (auto* projection : {&layer.gate_proj, &layer.up_proj}) {
      auto& dense = compactmind::as_dense(**projection, "test");
      dense.weight = dense.weight.narrow(0, 0, 512).contiguous();
    }
    auto& down_proj = compactmind::as_dense(*layer.down_proj, "test");
    down_proj.weight = down_proj.weight.narrow(1, 0, 512).contiguous();
    layer.shape = {6, 6, 512};
    model.config.layers[1] = layer.shape;
  }
  const at::Tensor tokens = retraining_test::training_tokens();
  for (const auto mode : {compactmind::TrainingMode::kLora, compactmind::TrainingMode::kFull}) {
    compactmind::TrainingOptions options;
    options.mode = mode;
    options.steps = 2;
    options.batch = 2;
    options.seqlen = 32;
    const auto report =
        compactmind::train_model(model, tokens, options, &compactmind::causal_lm_loss, "finetune");
    CHECK(std::isfinite(report.last_loss));
    CHECK(model.layers[1].q_proj->out_features() == 192);
    CHECK(model.layers[1].down_proj->in_features() == 512);
    CHECK(model.layers[1].q_proj->kind() == "dense");
  }
  at::NoGradGuard no_grad;
  CHECK(model.forward(sample_ids()).size(2) == 4096);
}
