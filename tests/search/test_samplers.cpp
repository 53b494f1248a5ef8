#include "compactmind/search/grid_sampler.h"
#include "compactmind/search/parzen_estimator.h"
#include "compactmind/search/pipeline_space.h"
#include "compactmind/search/random_draws.h"
#include "compactmind/search/random_sampler.h"
#include "compactmind/search/tpe_sampler.h"
#include "test_helpers.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

using namespace compactmind;
using namespace compactmind::search;
using compactmind::search::testing::builtin_like_plugins;
using compactmind::search::testing::space_of;

namespace {

const std::vector<std::string> kPpl{"ppl"};

ParameterSpec numeric(ParameterType type, double low, double high, bool log_scale = false, double step = 0.0) {
  ParameterSpec spec;
  spec.type = type;
  spec.low = low;
  spec.high = high;
  spec.log_scale = log_scale;
  spec.step = type == ParameterType::kInt && step == 0 ? 1 : step;
  spec.default_value = type == ParameterType::kInt ? nlohmann::json(static_cast<int64_t>(low)) : nlohmann::json(low);
  return spec;
}

}  // namespace

TEST_CASE("uniform draws stay in the domain and respect log scale and steps", "[search][random]") {
  auto rng = trial_rng(1, 0);
  const auto log_float = numeric(ParameterType::kFloat, 1e-4, 1.0, true);
  const auto stepped = numeric(ParameterType::kFloat, 0.1, 0.5, false, 0.1);
  const auto log_int = numeric(ParameterType::kInt, 1, 1000, true);
  int below_1e2 = 0;
  std::set<double> stepped_values;
  std::set<int64_t> small_ints;
  for (int i = 0; i < 4000; ++i) {
    const double x = sample_uniform(log_float, rng).get<double>();
    REQUIRE(x >= 1e-4);
    REQUIRE(x <= 1.0);
    below_1e2 += x < 1e-2;
    const auto s = sample_uniform(stepped, rng);
    REQUIRE(value_fits(stepped, s));
    stepped_values.insert(s.get<double>());
    const auto n = sample_uniform(log_int, rng);
    REQUIRE(n.is_number_integer());
    REQUIRE(value_fits(log_int, n));
    if (n.get<int64_t>() <= 3) small_ints.insert(n.get<int64_t>());
  }
  // Log-uniform over 4 decades: half the mass below 1e-2.
  CHECK(below_1e2 > 1800);
  CHECK(below_1e2 < 2200);
  CHECK(stepped_values.size() == 5);
  CHECK(small_ints == std::set<int64_t>{1, 2, 3});
}

TEST_CASE("samplers are reproducible with a seed and differ across seeds", "[search][random][tpe]") {
  const PipelineSpace pipelines(builtin_like_plugins(), {true});
  const std::vector<Trial> history;
  for (const std::string strategy : {"random", "bayesian", "grid"}) {
    auto a = make_sampler(strategy, {42, 10});
    auto b = make_sampler(strategy, {42, 10});
    auto c = make_sampler(strategy, {43, 10});
    int differ = 0;
    for (int number = 0; number < 10; ++number) {
      const auto pa = *a->sample({pipelines.space(), history, number, kPpl});
      const auto pb = *b->sample({pipelines.space(), history, number, kPpl});
      const auto pc = *c->sample({pipelines.space(), history, number, kPpl});
      CHECK(pa == pb);
      differ += pa != pc;
    }
    INFO(strategy);
    CHECK(differ >= 5);
  }
  CHECK_THROWS_WITH(make_sampler("anneal", {}), Catch::Contains("expected bayesian, random or grid"));
}

TEST_CASE("grid covers every combination once, conditionals branching only where active", "[search][grid]") {
  const ParameterSpace declared = space_of(R"({"parameters": [
      {"name": "kind", "type": "categorical", "choices": ["a", "b", "c"], "default": "a"},
      {"name": "flag", "type": "bool", "default": false},
      {"name": "x", "type": "float", "low": 0.0, "high": 1.0, "default": 0.5},
      {"name": "n", "type": "int", "low": 1, "high": 2, "default": 1, "condition": {"parameter": "kind", "equals": "c"}}]})");
  const SearchSpace space = SearchSpace::from_parameter_space(declared);
  CHECK(GridSampler::grid_values(space.find("x")->spec, 3) == std::vector<nlohmann::json>{0.0, 0.5, 1.0});
  CHECK(GridSampler::grid_values(space.find("n")->spec, 3) == std::vector<nlohmann::json>{1, 2});
  CHECK(GridSampler::grid_values(numeric(ParameterType::kFloat, 1e-4, 1e-2, true), 3) ==
        std::vector<nlohmann::json>{1e-4, 1e-3, 1e-2});

  // a, b: 2 × 3 = 6 each; c: 2 × 3 × 2 = 12 → 24 points.
  GridSampler grid(5, 3);
  const std::vector<Trial> history;
  std::set<std::string> seen;
  for (int number = 0; number < 24; ++number) {
    const auto point = grid.sample({space, history, number, kPpl});
    REQUIRE(point);
    REQUIRE_NOTHROW(space.validate(*point));
    seen.insert(point->dump());
  }
  CHECK(seen.size() == 24);
  CHECK_FALSE(grid.sample({space, history, 24, kPpl}));
  // The visiting order is shuffled by the seed, so a short budget still spreads over the kinds.
  std::set<std::string> kinds;
  for (int number = 0; number < 6; ++number) kinds.insert((*grid.sample({space, history, number, kPpl}))["kind"]);
  CHECK(kinds.size() >= 2);
}

TEST_CASE("parzen estimator follows Optuna's bandwidths, weights and categorical kernels", "[search][tpe]") {
  const auto spec = numeric(ParameterType::kFloat, 0.0, 1.0);
  const ParzenEstimator estimator(spec, {0.2, 0.5}, {1.0, 1.0});
  // Sorted with the prior mean: [0 | 0.2, 0.5, 0.5(prior) | 1]; the extremes ignore the range ends;
  // magic clip: 1 / min(100, 1 + 3) = 0.25.
  CHECK(estimator.mus() == std::vector<double>{0.2, 0.5, 0.5});
  CHECK(estimator.sigmas()[0] == Approx(0.3));
  CHECK(estimator.sigmas()[1] == Approx(0.3));
  CHECK(estimator.sigmas()[2] == Approx(1.0));
  CHECK(estimator.mixture_weights() == std::vector<double>{1.0 / 3, 1.0 / 3, 1.0 / 3});
  // The truncated mixture integrates to 1 over the range.
  double integral = 0.0;
  for (int i = 0; i < 10000; ++i) integral += std::exp(estimator.log_pdf_internal((i + 0.5) / 10000)) / 10000;
  CHECK(integral == Approx(1.0).epsilon(1e-3));

  // Discrete: the cell masses sum to 1.
  const auto ints = numeric(ParameterType::kInt, 1, 6);
  const ParzenEstimator discrete(ints, {2, 2, 5}, {1.0, 1.0, 1.0});
  double total = 0.0;
  for (int v = 1; v <= 6; ++v) total += std::exp(discrete.log_pdf_internal(v));
  CHECK(total == Approx(1.0).epsilon(1e-9));
  CHECK(discrete.log_pdf_internal(2) > discrete.log_pdf_internal(4));

  ParameterSpec choice;
  choice.type = ParameterType::kCategorical;
  choice.choices = {"a", "b", "c"};
  choice.default_value = "a";
  const ParzenEstimator categorical(choice, {"a", "a"}, {1.0, 1.0});
  // Kernels: (1/3 + [1,0,0]) normalised = [2/3, 1/6, 1/6] twice, then the uniform prior.
  CHECK(std::exp(categorical.log_pdf_internal(0)) == Approx((2.0 / 3 + 2.0 / 3 + 1.0 / 3) / 3));
  CHECK(std::exp(categorical.log_pdf_internal(1)) == Approx((1.0 / 6 + 1.0 / 6 + 1.0 / 3) / 3));

  CHECK(default_observation_weights(3) == std::vector<double>{1, 1, 1});
  const auto ramp = default_observation_weights(30);
  CHECK(ramp.front() == Approx(1.0 / 30));
  CHECK(ramp[4] == Approx(1.0));
  CHECK(ramp.back() == 1.0);
}
