// Retraining losses against values computed by hand (Python's math module, double precision).
#include "compactmind/training.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

namespace {

// Student logits [1, 3, 3], teacher logits, ids: small enough to check on paper.
at::Tensor student_logits() {
  return at::tensor({1.0f, 2.0f, 0.5f, 0.1f, -1.0f, 3.0f, 2.0f, 0.0f, -2.0f}).reshape({1, 3, 3});
}
at::Tensor teacher_logits() {
  return at::tensor({0.5f, 1.5f, 1.0f, 1.0f, 0.0f, 2.0f, 0.0f, 0.0f, 1.0f}).reshape({1, 3, 3});
}
at::Tensor ids() { return at::tensor(std::vector<int64_t>{0, 1, 2}).reshape({1, 3}); }

// −(log softmax([1, 2, 0.5])[1] + log softmax([0.1, −1, 3])[2]) / 2: position i predicts id i + 1.
constexpr double kCrossEntropy = 0.2675715015;
// Mean over the 3 positions of Σ_v p_t·(log p_t − log p_s), both softmaxes at T = 2.
constexpr double kKlAtT2 = 0.2184446915;

}  // namespace

TEST_CASE("causal_lm_loss is the mean next-token cross-entropy", "[retraining][losses]") {
  CHECK(compactmind::causal_lm_loss(student_logits(), ids()).item<double>() ==
        Approx(kCrossEntropy).epsilon(1e-6));
}

TEST_CASE("causal_lm_loss averages over every prediction of a batch", "[retraining][losses]") {
  // The same window twice gives the same mean; a window's first logits never see a target.
  const at::Tensor logits = at::cat({student_logits(), student_logits()}, 0);
  const at::Tensor batch_ids = at::cat({ids(), ids()}, 0);
  CHECK(compactmind::causal_lm_loss(logits, batch_ids).item<double>() ==
        Approx(kCrossEntropy).epsilon(1e-6));
}

TEST_CASE("distillation_loss = w·T²·KL + (1 − w)·CE", "[retraining][losses]") {
  const double temperature = 2.0;
  SECTION("mixed weight") {
    // 0.25 · 4 · 0.2184446915 + 0.75 · 0.2675715015
    CHECK(compactmind::distillation_loss(student_logits(), teacher_logits(), ids(), temperature, 0.25)
              .item<double>() == Approx(0.4191233177).epsilon(1e-6));
  }
  SECTION("kd_weight 0 is the cross-entropy alone") {
    CHECK(compactmind::distillation_loss(student_logits(), teacher_logits(), ids(), temperature, 0.0)
              .item<double>() == Approx(kCrossEntropy).epsilon(1e-6));
  }
  SECTION("kd_weight 1 is T²·KL alone") {
    CHECK(compactmind::distillation_loss(student_logits(), teacher_logits(), ids(), temperature, 1.0)
              .item<double>() == Approx(4.0 * kKlAtT2).epsilon(1e-6));
  }
  SECTION("a student equal to its teacher has zero KL") {
    CHECK(std::abs(compactmind::distillation_loss(student_logits(), student_logits(), ids(),
                                                  temperature, 1.0)
                       .item<double>()) < 1e-7);
  }
}

TEST_CASE("the T² factor makes the soft gradient T·(p_s − p_t) / positions", "[retraining][losses]") {
  // Hinton et al.: ∂(T²·KL)/∂z_s = T·(softmax(z_s/T) − softmax(z_t/T)), here averaged over 3 positions.
  const double temperature = 4.0;
  const at::Tensor student = student_logits().requires_grad_(true);
  compactmind::distillation_loss(student, teacher_logits(), ids(), temperature, 1.0).backward();
  const at::Tensor expected = temperature *
                              (at::softmax(student_logits() / temperature, -1) -
                               at::softmax(teacher_logits() / temperature, -1)) / 3.0;
  CHECK(at::allclose(student.grad(), expected, 1e-5, 1e-7));
}

TEST_CASE("loss functions name the shapes they refuse", "[retraining][losses]") {
  CHECK_THROWS_WITH(compactmind::causal_lm_loss(student_logits(), ids().narrow(1, 0, 2)),
                    "causal_lm_loss: logits must be [B, L, V] and ids [B, L], got [1,3,3] and [1,2]");
  CHECK_THROWS_WITH(compactmind::causal_lm_loss(student_logits().narrow(1, 0, 1), ids().narrow(1, 0, 1)),
                    Catch::Contains("need seqlen >= 2"));
  CHECK_THROWS_WITH(compactmind::distillation_loss(student_logits(), teacher_logits().narrow(2, 0, 2),
                                                   ids(), 2.0, 0.5),
                    Catch::Contains("teacher logits [1,3,2] differ from student logits [1,3,3]"));
  CHECK_THROWS_WITH(compactmind::distillation_loss(student_logits(), teacher_logits(), ids(), 0.0, 0.5),
                    Catch::Contains("temperature must be > 0"));
  CHECK_THROWS_WITH(compactmind::distillation_loss(student_logits(), teacher_logits(), ids(), 2.0, 1.5),
                    Catch::Contains("kd_weight must be in [0, 1]"));
}
