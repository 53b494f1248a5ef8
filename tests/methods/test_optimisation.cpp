// AdamW against its formula, the warmup + cosine schedule, gradient clipping, the NaN guard message.
#include "compactmind/training.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

TEST_CASE("learning rate: linear warmup then cosine decay", "[retraining][schedule]") {
  const double peak = 1e-3;
  // 10 warmup steps of 100: step s < 10 gets peak·(s + 1)/10.
  CHECK(compactmind::learning_rate_at(0, 100, 10, peak) == Approx(1e-4));
  CHECK(compactmind::learning_rate_at(4, 100, 10, peak) == Approx(5e-4));
  CHECK(compactmind::learning_rate_at(9, 100, 10, peak) == Approx(1e-3));
  // Then cos over the 90 remaining steps: progress 0, 0.5, 89/90.
  CHECK(compactmind::learning_rate_at(10, 100, 10, peak) == Approx(1e-3));
  CHECK(compactmind::learning_rate_at(55, 100, 10, peak) == Approx(5e-4));
  CHECK(compactmind::learning_rate_at(99, 100, 10, peak) ==
        Approx(peak * 0.5 * (1.0 + std::cos(M_PI * 89.0 / 90.0))));
  // Without warmup the first step runs at the peak.
  CHECK(compactmind::learning_rate_at(0, 20, 0, peak) == Approx(peak));
  CHECK_THROWS_WITH(compactmind::learning_rate_at(100, 100, 10, peak),
                    Catch::Contains("step 100 outside [0, 100)"));
}

TEST_CASE("AdamW follows the decoupled-weight-decay formula", "[retraining][adamw]") {
  // Expected values from the scalar formula in Python (lr 0.01, wd 0.1, β 0.9/0.999, eps 1e-8):
  //   p ← p − lr·wd·p; m ← β1m + (1−β1)g; v ← β2v + (1−β2)g²; p ← p − lr·m̂/(√v̂ + eps)
  at::Tensor parameter = at::tensor({1.0, -2.0}, at::kDouble).requires_grad_(true);
  compactmind::AdamWOptions options;
  options.weight_decay = 0.1;
  compactmind::AdamW optimizer({parameter}, options);
  const double gradients[3][2] = {{0.5, -1.0}, {0.2, 0.3}, {-0.4, 0.1}};
  const double expected[3][2] = {{0.9890000002, -1.9880000001},
                                 {0.9790252484, -1.9817335142},
                                 {0.9762834346, -1.9770692590}};
  for (int step = 0; step < 3; ++step) {
    parameter.mutable_grad() = at::tensor({gradients[step][0], gradients[step][1]}, at::kDouble);
    optimizer.step(0.01);
    optimizer.zero_grad();
    CHECK_FALSE(parameter.grad().defined());
    CHECK(parameter[0].item<double>() == Approx(expected[step][0]).epsilon(1e-9));
    CHECK(parameter[1].item<double>() == Approx(expected[step][1]).epsilon(1e-9));
  }
  CHECK(optimizer.steps_taken() == 3);
}

TEST_CASE("AdamW refuses a parameter that does not require grad", "[retraining][adamw]") {
  CHECK_THROWS_WITH(compactmind::AdamW({at::zeros({4})}, {}),
                    "AdamW: parameter 0 (4 elements) does not require grad");
}

TEST_CASE("gradients are clipped by their global norm", "[retraining][clip]") {
  at::Tensor a = at::zeros({2}).requires_grad_(true);
  at::Tensor b = at::zeros({1}).requires_grad_(true);
  a.mutable_grad() = at::tensor({3.0f, 4.0f});
  b.mutable_grad() = at::tensor({12.0f});
  // √(3² + 4² + 12²) = 13
  CHECK(compactmind::clip_grad_norm({a, b}, 26.0) == Approx(13.0));
  CHECK(a.grad()[1].item<float>() == 4.0f);  // below the limit: untouched
  CHECK(compactmind::clip_grad_norm({a, b}, 1.0) == Approx(13.0));
  const double factor = 1.0 / (13.0 + 1e-6);
  CHECK(a.grad()[0].item<float>() == Approx(3.0 * factor));
  CHECK(b.grad()[0].item<float>() == Approx(12.0 * factor));
  CHECK(at::cat({a.grad(), b.grad()}).norm().item<double>() == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("a non-finite loss stops training naming the step and the loss", "[retraining][guard]") {
  CHECK_NOTHROW(compactmind::check_finite_loss(3.5, 1, 10, 1e-3, "finetune"));
  CHECK_THROWS_WITH(
      compactmind::check_finite_loss(std::numeric_limits<double>::quiet_NaN(), 17, 100, 0.05,
                                     "finetune"),
      Catch::StartsWith("finetune: training diverged at step 17 of 100: loss is nan (lr 0.05); "
                        "training stopped"));
  CHECK_THROWS_WITH(
      compactmind::check_finite_loss(std::numeric_limits<double>::infinity(), 3, 8, 1e-2, "distill"),
      Catch::Contains("distill: training diverged at step 3 of 8: loss is inf"));
}
