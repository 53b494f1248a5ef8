// The grouped (conditional) decomposition and the multivariate Parzen estimator of the TPE, against
// hand-computed values.
#include "compactmind/search/multivariate_parzen_estimator.h"
#include "compactmind/search/parzen_estimator.h"
#include "compactmind/search/random_draws.h"
#include "compactmind/search/tpe_sampler.h"
#include "test_helpers.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace compactmind;
using namespace compactmind::search;
using compactmind::search::testing::space_of;

namespace {

ParameterSpec unit_float() {
  ParameterSpec spec;
  spec.name = "x";
  spec.type = ParameterType::kFloat;
  spec.low = 0.0;
  spec.high = 1.0;
  spec.default_value = 0.5;
  return spec;
}

ParameterSpec two_choices() {
  ParameterSpec spec;
  spec.name = "c";
  spec.type = ParameterType::kCategorical;
  spec.choices = {"a", "b"};
  spec.default_value = "a";
  return spec;
}

// N(mu, sigma) truncated to [0, 1], at x: the textbook formula, independent of the library.
double truncated_normal(double x, double mu, double sigma) {
  const auto cdf = [](double z) { return 0.5 * (1.0 + std::erf(z / std::sqrt(2.0))); };
  const double density = std::exp(-0.5 * std::pow((x - mu) / sigma, 2)) / (sigma * std::sqrt(2.0 * M_PI));
  return density / (cdf((1.0 - mu) / sigma) - cdf((0.0 - mu) / sigma));
}

Trial trial_with(int number, nlohmann::json params) {
  Trial trial;
  trial.number = number;
  trial.state = TrialState::kComplete;
  trial.params = std::move(params);
  trial.values["ppl"] = number;
  return trial;
}

}  // namespace

TEST_CASE("group decomposition splits the dimensions into sets that appear together", "[search][tpe]") {
  const SearchSpace space = SearchSpace::from_parameter_space(space_of(R"({"parameters": [
      {"name": "mode", "type": "categorical", "choices": ["a", "b"], "default": "a"},
      {"name": "only", "type": "categorical", "choices": ["one"], "default": "one"},
      {"name": "x", "type": "float", "low": 0.0, "high": 10.0, "default": 5.0, "condition": {"parameter": "mode", "equals": "a"}},
      {"name": "y", "type": "float", "low": 0.001, "high": 1000.0, "log": true, "default": 1.0, "condition": {"parameter": "mode", "equals": "b"}},
      {"name": "k", "type": "int", "low": 1, "high": 10, "default": 5, "condition": {"parameter": "mode", "equals": "b"}},
      {"name": "opt", "type": "categorical", "choices": ["p", "q", "r"], "default": "p", "condition": {"parameter": "mode", "equals": "b"}}]})"));
  const std::vector<Trial> trials{
      trial_with(0, {{"mode", "a"}, {"only", "one"}, {"x", 1.0}}),
      trial_with(1, {{"mode", "b"}, {"only", "one"}, {"y", 1.0}, {"k", 2}, {"opt", "p"}}),
  };
  std::vector<const Trial*> pointers{&trials[0], &trials[1]};
  // The single-valued "only" teaches nothing and is left out; mode is in both trials, x in one, the
  // b-branch parameters always together.
  using Groups = std::vector<std::vector<std::string>>;
  CHECK(TpeSampler::group_decomposition(pointers, space) == Groups{{"mode"}, {"x"}, {"y", "k", "opt"}});
  CHECK(TpeSampler::group_decomposition({&trials[0]}, space) == Groups{{"mode", "x"}});
  CHECK(TpeSampler::group_decomposition({}, space).empty());
  // A trial holding only part of a group splits it.
  const Trial partial = trial_with(2, {{"mode", "b"}, {"y", 2.0}, {"k", 3}});
  pointers.push_back(&partial);
  CHECK(TpeSampler::group_decomposition(pointers, space) == Groups{{"mode"}, {"x"}, {"y", "k"}, {"opt"}});
}

TEST_CASE("univariate bandwidths ignore the prior mean as a neighbour (Optuna >= 4.9)", "[search][tpe]") {
  const ParzenEstimator estimator(unit_float(), {0.1, 0.2, 0.9}, {1.0, 1.0, 1.0});
  // Sorted [0 | 0.1, 0.2, 0.9 | 1]: 0.1 → 0.1 (its inner gap), clipped to 1 / min(100, 1 + 4) = 0.2;
  // 0.2 → max(0.1, 0.7); 0.9 → its inner gap 0.7. With the prior mean 0.5 among the neighbours they
  // would be 0.2, 0.3, 0.4.
  REQUIRE(estimator.sigmas().size() == 4);
  CHECK(estimator.sigmas()[0] == Approx(0.2));
  CHECK(estimator.sigmas()[1] == Approx(0.7));
  CHECK(estimator.sigmas()[2] == Approx(0.7));
  CHECK(estimator.sigmas()[3] == Approx(1.0));
}

TEST_CASE("multivariate parzen estimator: product kernels with Optuna's bandwidth", "[search][tpe]") {
  const MultivariateParzenEstimator estimator({unit_float(), two_choices()}, {{0.2, "a"}, {0.6, "b"}}, {1.0, 1.0});
  // σ = 0.2 · 2^(−1/6) = 0.178, clipped up to 1 / min(100, 1 + 3) = 0.25.
  CHECK(estimator.observation_sigma(0) == Approx(0.25));
  CHECK(estimator.mixture_weights() == std::vector<double>{1.0 / 3, 1.0 / 3, 1.0 / 3});
  // Categorical rows (1/3 prior mass on each choice, normalised): a → [0.8, 0.2], b → [0.2, 0.8],
  // prior → [0.5, 0.5]. Density at (0.3, a) and (0.3, b):
  const double ka = truncated_normal(0.3, 0.2, 0.25), kb = truncated_normal(0.3, 0.6, 0.25),
               kp = truncated_normal(0.3, 0.5, 1.0);
  const double at_a = (ka * 0.8 + kb * 0.2 + kp * 0.5) / 3, at_b = (ka * 0.2 + kb * 0.8 + kp * 0.5) / 3;
  CHECK(std::exp(estimator.log_pdf_internal({0.3, 0.0})) == Approx(at_a).epsilon(1e-9));
  CHECK(std::exp(estimator.log_pdf_internal({0.3, 1.0})) == Approx(at_b).epsilon(1e-9));
  // Not the product of the marginals (which a univariate pair would give).
  const double marginal_x = (ka + kb + kp) / 3, marginal_a = (0.8 + 0.2 + 0.5) / 3;
  CHECK(std::abs(at_a - marginal_x * marginal_a) > 0.01);
  // Integrates to 1 over the mixed space.
  double integral = 0.0;
  for (int i = 0; i < 4000; ++i)
    for (const double c : {0.0, 1.0}) integral += std::exp(estimator.log_pdf_internal({(i + 0.5) / 4000, c})) / 4000;
  CHECK(integral == Approx(1.0).epsilon(1e-3));
  CHECK(estimator.to_external(estimator.to_internal({0.3, "b"})) == std::vector<nlohmann::json>{0.3, "b"});
  CHECK_THROWS_WITH(MultivariateParzenEstimator({unit_float()}, {{0.1, 0.2}}, {1.0}),
                    "multivariate parzen estimator: an observation lacks a value for some parameter");
}

TEST_CASE("multivariate parzen estimator draws a kernel's values together", "[search][tpe]") {
  // 30 observations at (0.1, a) and 30 at (0.9, b): a joint draw almost never mixes them.
  std::vector<std::vector<nlohmann::json>> observations;
  for (int i = 0; i < 30; ++i) observations.push_back({0.1, "a"}), observations.push_back({0.9, "b"});
  const MultivariateParzenEstimator estimator({unit_float(), two_choices()}, observations,
                                              std::vector<double>(observations.size(), 1.0));
  auto rng = trial_rng(7, 0);
  int mixed = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto x = estimator.sample_internal(rng);
    mixed += (x[0] < 0.5) == (x[1] == 1.0);
  }
  // Independent draws would mix half the time; here only the prior kernel (1/61) and the categorical
  // smoothing (1/62 per kernel) do.
  CHECK(mixed < 2000 * 0.05);
}

TEST_CASE("make_sampler's tpe_multivariate switches the grouped estimators off", "[search][tpe]") {
  const SearchSpace space = SearchSpace::from_parameter_space(space_of(R"({"parameters": [
      {"name": "x", "type": "float", "low": 0.0, "high": 1.0, "default": 0.5},
      {"name": "c", "type": "categorical", "choices": ["a", "b"], "default": "a"}]})"));
  std::vector<Trial> history;
  for (int i = 0; i < 12; ++i) {
    Trial trial = trial_with(i, {{"x", (i % 2 ? 0.9 : 0.1)}, {"c", (i % 2 ? "b" : "a")}});
    trial.values["ppl"] = i % 2 ? 1.0 + i : 100.0 + i;  // the (0.9, b) trials are the good ones
    history.push_back(std::move(trial));
  }
  const std::vector<std::string> objectives{"ppl"};
  SamplerOptions options{3, 40};
  auto grouped = make_sampler("bayesian", options);
  options.tpe_multivariate = false;
  auto univariate = make_sampler("bayesian", options);
  // Same seed, same history: the two estimators consume the generator differently (one kernel draw
  // per candidate for the group, one per dimension alone), so their points differ.
  int differ = 0;
  for (int number = 12; number < 20; ++number)
    differ += *grouped->sample({space, history, number, objectives}) != *univariate->sample({space, history, number, objectives});
  CHECK(differ > 0);
}
