// The shared training loop on tiny-llama2: determinism, the NaN guard, sampling of windows. (Recovery
// of a damaged model is tested through the plugins, test_retraining_plugins.cpp.)
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/training.h"

#include "retraining_fixtures.h"

#include <catch2/catch.hpp>

#include <cmath>
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
  const at::Tensor tokens = retraining_test::training_tokens();
  auto train = [&](compactmind::TrainingMode mode, uint64_t seed, int64_t steps) {
    compactmind::LlamaModel model = retraining_test::tiny_llama2();
    compactmind::TrainingOptions options = quick_options(mode);
    options.seed = seed;
    options.steps = steps;
    compactmind::train_model(model, tokens, options, &compactmind::causal_lm_loss, "finetune");
    return model;
  };
  SECTION("one thread, full and LoRA; another seed differs") {
    retraining_test::use_one_thread();
    for (const auto mode : {compactmind::TrainingMode::kFull, compactmind::TrainingMode::kLora}) {
      const compactmind::LlamaModel first = train(mode, 5, 4);
      CHECK(same_weights(first, train(mode, 5, 4)));
      CHECK_FALSE(same_weights(first, train(mode, 6, 4)));
    }
  }
  SECTION("two threads") {
    // Kept short: two threads on the loaded shared machine are slow (retraining_fixtures.h).
    REQUIRE(compactmind::set_threads(2) == 2);
    CHECK(same_weights(train(compactmind::TrainingMode::kFull, 5, 1),
                       train(compactmind::TrainingMode::kFull, 5, 1)));
  }
}

TEST_CASE("a NaN weight stops training with the step and the loss", "[retraining][guard]") {
  retraining_test::use_one_thread();
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
