// The shared training loop on tiny-llama2: determinism, the NaN guard, recovery of a damaged model,
// sampling of windows.
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/training.h"

#include "retraining_fixtures.h"

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <iostream>
#include <limits>
#include <set>

namespace {

compactmind::TrainingOptions quick_options(compactmind::TrainingMode mode) {
  compactmind::TrainingOptions options;
  options.mode = mode;
  options.steps = 4;
  options.batch = 2;
  options.seqlen = 32;
  options.lr = 1e-3;
  options.seed = 5;
  return options;
}

bool same_weights(const compactmind::LlamaModel& a, const compactmind::LlamaModel& b) {
  const auto weights_a = retraining_test::all_weights(a);
  const auto weights_b = retraining_test::all_weights(b);
  for (size_t i = 0; i < weights_a.size(); ++i) {
    if (!at::equal(weights_a[i].second, weights_b[i].second)) return false;
  }
  return true;
}

double held_out_loss(const compactmind::LlamaModel& model, const at::Tensor& windows) {
  at::NoGradGuard no_grad;
  return compactmind::causal_lm_loss(model.forward(windows), windows).item<double>();
}

}  // namespace

TEST_CASE("windows are sampled by seed, each once per epoch", "[retraining][data]") {
  const at::Tensor stream = at::arange(int64_t{0}, int64_t{100}, at::kLong);  // 12 windows of 8
  compactmind::WindowSampler first(stream, 8, 3);
  compactmind::WindowSampler again(stream, 8, 3);
  compactmind::WindowSampler other(stream, 8, 4);
  CHECK(first.window_count() == 12);
  std::set<int64_t> starts;
  bool differs_from_other = false;
  for (int batch = 0; batch < 4; ++batch) {
    const at::Tensor windows = first.next_batch(3);
    CHECK(at::equal(windows, again.next_batch(3)));
    differs_from_other |= !at::equal(windows, other.next_batch(3));
    for (int64_t row = 0; row < 3; ++row) {
      // Each row is one window of the cut: 8 consecutive ids starting at a multiple of 8.
      const int64_t start = windows[row][0].item<int64_t>();
      CHECK(start % 8 == 0);
      CHECK(at::equal(windows[row], at::arange(start, start + 8, at::kLong)));
      starts.insert(start);
    }
  }
  CHECK(starts.size() == 12);  // 4 batches × 3 = one epoch: every window exactly once
  CHECK(differs_from_other);
  CHECK_THROWS_WITH(compactmind::WindowSampler(at::arange(int64_t{0}, int64_t{10}, at::kLong), 16, 0),
                    Catch::Contains("the training text has 10 tokens, fewer than one window of seqlen 16"));
}

TEST_CASE("same seed gives bitwise-identical training on CPU", "[retraining][determinism]") {
  REQUIRE(compactmind::set_threads(2) == 2);
  const at::Tensor tokens = retraining_test::training_tokens();
  for (const auto mode : {compactmind::TrainingMode::kFull, compactmind::TrainingMode::kLora}) {
    compactmind::LlamaModel first = retraining_test::tiny_llama2();
    compactmind::LlamaModel second = retraining_test::tiny_llama2();
    compactmind::LlamaModel reseeded = retraining_test::tiny_llama2();
    compactmind::TrainingOptions options = quick_options(mode);
    const auto report_first =
        compactmind::train_model(first, tokens, options, &compactmind::causal_lm_loss, "finetune");
    const auto report_second =
        compactmind::train_model(second, tokens, options, &compactmind::causal_lm_loss, "finetune");
    options.seed = 6;
    compactmind::train_model(reseeded, tokens, options, &compactmind::causal_lm_loss, "finetune");
    CHECK(report_first.last_loss == report_second.last_loss);
    CHECK(same_weights(first, second));
    CHECK_FALSE(same_weights(first, reseeded));
  }
}

TEST_CASE("a NaN weight stops training with the step and the loss", "[retraining][guard]") {
  compactmind::set_threads(2);
  compactmind::LlamaModel model = retraining_test::tiny_llama2();
  {
    at::NoGradGuard no_grad;
    compactmind::as_dense(*model.layers[2].up_proj, "test").weight[5][7] =
        std::numeric_limits<float>::quiet_NaN();
  }
  for (const auto mode : {compactmind::TrainingMode::kFull, compactmind::TrainingMode::kLora}) {
    CHECK_THROWS_WITH(compactmind::train_model(model, retraining_test::training_tokens(),
                                               quick_options(mode), &compactmind::causal_lm_loss,
                                               "finetune"),
                      Catch::StartsWith("finetune: training diverged at step 1 of 4: loss is nan"));
    // The model is left plain: no adapter, nothing requiring grad.
    for (const auto& [name, linear] : model.named_linears()) {
      CHECK(linear->kind() == "dense");
      CHECK_FALSE(linear->dense_weight().requires_grad());
    }
    CHECK_FALSE(model.embed_tokens.requires_grad());
  }
}

TEST_CASE("training recovers part of the loss of a damaged model", "[retraining][recovery]") {
  compactmind::set_threads(2);
  compactmind::LlamaModel model = retraining_test::tiny_llama2();
  {
    // Seeded noise of 40% of each linear weight's RMS: a damaged copy, as the issue allows.
    at::NoGradGuard no_grad;
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(1);
    for (auto& [name, linear] : model.named_linears()) {
      at::Tensor& weight = compactmind::as_dense(*linear, name).weight;
      const double rms = weight.pow(2).mean().sqrt().item<double>();
      weight.add_(at::empty_like(weight).normal_(0.0, 0.4 * rms, generator));
    }
  }
  const at::Tensor windows = retraining_test::held_out_windows(4, 64);
  const double damaged = held_out_loss(model, windows);
  compactmind::TrainingOptions options = quick_options(compactmind::TrainingMode::kFull);
  options.steps = 12;
  options.seqlen = 64;
  options.batch = 4;
  options.lr = 5e-4;
  compactmind::train_model(model, retraining_test::training_tokens(), options,
                           &compactmind::causal_lm_loss, "finetune");
  const double recovered = held_out_loss(model, windows);
  std::cout << "held-out loss: damaged " << damaged << ", after 12 steps " << recovered << "\n";
  CHECK(recovered < damaged - 0.05);
}
