// Search efficiency: TPE vs random search on a cheap synthetic objective with the conditional
// structure of the real pipeline space (mode single/hybrid, plugin choice per slot, each plugin's
// parameters conditional on it being chosen, a size constraint). Reports, per seed, how many trials
// each strategy needs before its best feasible value is within 1% (and 5%) of the best known value.
//
//   bench_search_efficiency [--seeds 5] [--trials 200] [--target-ratio 0.25]
//
// The objective is a model of compression, not a measurement: pruning at ratio r multiplies PPL by
// exp(c_importance · r²) and size by (1 − 0.9 r); retraining recovers up to 60% of the pruning damage
// (best at lr = 1e-3, more with more steps); quantization multiplies size by 0.3 and PPL by
// exp(0.02 + 0.4 (alpha − 0.85)² + 0.03 [not per-token]). At a target ratio of 0.25 every single-method
// pipeline is infeasible: the optimum is prune (just enough) → retrain → quantize.
#include "compactmind/search/pipeline_space.h"
#include "compactmind/search/random_sampler.h"
#include "compactmind/search/random_draws.h"
#include "compactmind/search/study.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace compactmind;
using namespace compactmind::search;

namespace {

std::vector<PluginEntry> plugins() {
  auto parse = [](const char* text, const char* owner) { return ParameterSpace::parse(text, owner); };
  return {
      {"llm_pruner", PluginKind::kPruning, parse(R"({"parameters": [
          {"name": "ratio", "type": "float", "low": 0.05, "high": 0.5, "default": 0.2},
          {"name": "importance", "type": "categorical", "choices": ["random", "l1", "l2", "taylor"], "default": "l2"},
          {"name": "taylor_samples", "type": "int", "low": 4, "high": 64, "step": 4, "default": 16,
           "condition": {"parameter": "importance", "equals": "taylor"}}]})", "llm_pruner")},
      {"magnitude_pruner", PluginKind::kPruning, parse(R"({"parameters": [
          {"name": "ratio", "type": "float", "low": 0.05, "high": 0.5, "default": 0.2}]})", "magnitude_pruner")},
      {"smoothquant", PluginKind::kQuantization, parse(R"({"parameters": [
          {"name": "alpha", "type": "float", "low": 0.0, "high": 1.0, "default": 0.5},
          {"name": "per_token", "type": "bool", "default": true}]})", "smoothquant")},
      {"lora_retrain", PluginKind::kRetraining, parse(R"({"parameters": [
          {"name": "lr", "type": "float", "low": 1e-5, "high": 1e-1, "log": true, "default": 1e-4},
          {"name": "steps", "type": "int", "low": 10, "high": 200, "step": 10, "default": 50}]})", "lora_retrain")},
  };
}

struct Score {
  double ppl, size_ratio;
};

Score evaluate(const nlohmann::json& pipeline) {
  double damage = 0.0, quant_damage = 0.0, size = 1.0;
  for (const auto& step : pipeline) {
    const std::string method = step["method"];
    if (method == "llm_pruner" || method == "magnitude_pruner") {
      const double r = step["ratio"];
      double c = 9.0;  // magnitude pruning
      if (method == "llm_pruner") {
        const std::string importance = step["importance"];
        c = importance == "random" ? 14.0 : importance == "l1" ? 7.0 : importance == "l2" ? 6.0
                                                                     : 3.0 + 8.0 / step["taylor_samples"].get<double>();
      }
      damage += c * r * r;
      size *= 1.0 - 0.9 * r;
    } else if (method == "lora_retrain") {
      const double lr = std::log10(step["lr"].get<double>());
      const double recovery = 0.6 * std::exp(-std::pow(lr + 3.0, 2) / 0.5) * (1.0 - std::exp(-step["steps"].get<double>() / 80.0));
      damage *= 1.0 - recovery;
    } else if (method == "smoothquant") {
      quant_damage += 0.02 + 0.4 * std::pow(step["alpha"].get<double>() - 0.85, 2) + (step["per_token"] == true ? 0.0 : 0.03);
      size *= 0.3;
    }
  }
  return {10.0 * std::exp(damage + quant_damage), size};
}

struct Run {
  std::vector<double> best_so_far;  // best feasible PPL after each trial (inf before the first)
  double seconds = 0.0;
};

Run run(const std::string& strategy, uint64_t seed, int n_trials, const PipelineSpace& space, double target) {
  StudyOptions options;
  options.pruner.enabled = false;
  options.to_pipeline = [&space](const nlohmann::json& point) { return space.to_pipeline(point); };
  Study study(space.space(), options, make_sampler(strategy, {seed, n_trials}));
  const auto start = std::chrono::steady_clock::now();
  study.optimize(n_trials, [target](const Trial& trial, TrialReporter&) {
    const Score score = evaluate(trial.pipeline);
    return TrialOutcome{{{"ppl", score.ppl}, {"size_ratio", score.size_ratio}}, {score.size_ratio - target}, nullptr};
  });
  Run out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double best = INFINITY;
  for (const auto& trial : study.trials()) {
    if (trial.state == TrialState::kComplete && trial.feasible()) best = std::min(best, *trial.value("ppl"));
    out.best_so_far.push_back(best);
  }
  return out;
}

// 1-based number of trials until the best is within `tolerance` of `best_known`; 0 = never.
int trials_to_reach(const Run& run, double best_known, double tolerance) {
  for (size_t i = 0; i < run.best_so_far.size(); ++i)
    if (run.best_so_far[i] <= best_known * (1.0 + tolerance)) return static_cast<int>(i + 1);
  return 0;
}

std::string cell(int trials, int budget) { return trials ? std::to_string(trials) : ">" + std::to_string(budget); }

}  // namespace

int main(int argc, char** argv) {
  int n_seeds = 5, n_trials = 200;
  double target = 0.25;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seeds")) n_seeds = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--trials")) n_trials = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--target-ratio")) target = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s (expected --seeds N, --trials N, --target-ratio R)\n", argv[i]);
      return 2;
    }
  }
  const PipelineSpace space(plugins(), {true});
  std::printf("search space: %zu dimensions, fingerprint %s; target ratio %.3g; %d trials; %d seeds\n",
              space.space().dimensions().size(), space.space().fingerprint().c_str(), target, n_trials, n_seeds);

  // Best known value: the analytic optimum of the model (prune just enough with Taylor importance and
  // 64 samples, retrain at lr 1e-3 for 200 steps, SmoothQuant alpha 0.85 per-token), checked against
  // 200000 uniform samples.
  const double r_min = (1.0 - target / 0.3) / 0.9;
  double best_known = INFINITY;
  if (r_min >= 0.05 && r_min <= 0.5) {
    const nlohmann::json analytic = nlohmann::json::parse(
        R"([{"method": "llm_pruner", "importance": "taylor", "taylor_samples": 64},
            {"method": "lora_retrain", "lr": 0.001, "steps": 200},
            {"method": "smoothquant", "alpha": 0.85, "per_token": true}])");
    nlohmann::json pipeline = analytic;
    pipeline[0]["ratio"] = r_min + 1e-12;
    const Score score = evaluate(pipeline);
    if (score.size_ratio <= target) best_known = score.ppl;
  }
  double sampled = INFINITY;
  auto rng = trial_rng(12345, 0);
  for (int i = 0; i < 200000; ++i) {
    const Score score = evaluate(space.to_pipeline(sample_point_uniform(space.space(), rng)));
    if (score.size_ratio <= target) sampled = std::min(sampled, score.ppl);
  }
  best_known = std::min(best_known, sampled);
  std::printf("best known feasible PPL %.5f (best of 200000 uniform samples: %.5f)\n\n", best_known, sampled);

  std::printf("%-6s | %-21s | %-21s | %-25s | %s\n", "seed", "trials to 1%: tpe rnd", "trials to 5%: tpe rnd",
              "best after 50: tpe rnd", "seconds tpe rnd");
  std::vector<int> tpe_1, rnd_1, tpe_5, rnd_5;
  double tpe_time = 0, rnd_time = 0, tpe_50 = 0, rnd_50 = 0, tpe_final = 0, rnd_final = 0;
  for (int s = 0; s < n_seeds; ++s) {
    const uint64_t seed = 1 + s;
    const Run tpe = run("bayesian", seed, n_trials, space, target);
    const Run rnd = run("random", seed, n_trials, space, target);
    tpe_1.push_back(trials_to_reach(tpe, best_known, 0.01));
    rnd_1.push_back(trials_to_reach(rnd, best_known, 0.01));
    tpe_5.push_back(trials_to_reach(tpe, best_known, 0.05));
    rnd_5.push_back(trials_to_reach(rnd, best_known, 0.05));
    const size_t at50 = std::min<size_t>(50, tpe.best_so_far.size()) - 1;
    tpe_50 += tpe.best_so_far[at50] / n_seeds;
    rnd_50 += rnd.best_so_far[at50] / n_seeds;
    tpe_final += tpe.best_so_far.back() / n_seeds;
    rnd_final += rnd.best_so_far.back() / n_seeds;
    tpe_time += tpe.seconds;
    rnd_time += rnd.seconds;
    std::printf("%-6llu | %9s %9s  | %9s %9s  | %11.4f %11.4f  | %.2f %.2f\n", static_cast<unsigned long long>(seed),
                cell(tpe_1.back(), n_trials).c_str(), cell(rnd_1.back(), n_trials).c_str(),
                cell(tpe_5.back(), n_trials).c_str(), cell(rnd_5.back(), n_trials).c_str(), tpe.best_so_far[at50],
                rnd.best_so_far[at50], tpe.seconds, rnd.seconds);
  }
  // Median with censored runs counted as the budget + 1 (they sort last).
  auto median = [n_trials](std::vector<int> values) {
    for (int& v : values) v = v ? v : n_trials + 1;
    std::sort(values.begin(), values.end());
    const int m = values[values.size() / 2];
    return m > n_trials ? ">" + std::to_string(n_trials) : std::to_string(m);
  };
  auto reached = [](const std::vector<int>& values) {
    return std::to_string(std::count_if(values.begin(), values.end(), [](int v) { return v > 0; }));
  };
  std::printf("\nmedian trials to 1%%: tpe %s (reached in %s/%d seeds), random %s (%s/%d)\n", median(tpe_1).c_str(),
              reached(tpe_1).c_str(), n_seeds, median(rnd_1).c_str(), reached(rnd_1).c_str(), n_seeds);
  std::printf("median trials to 5%%: tpe %s (reached in %s/%d seeds), random %s (%s/%d)\n", median(tpe_5).c_str(),
              reached(tpe_5).c_str(), n_seeds, median(rnd_5).c_str(), reached(rnd_5).c_str(), n_seeds);
  std::printf("mean best feasible PPL after 50 trials: tpe %.4f, random %.4f; after %d: tpe %.4f, random %.4f\n", tpe_50,
              rnd_50, n_trials, tpe_final, rnd_final);
  std::printf("sampler + loop time per run: tpe %.2f s, random %.2f s (mean)\n", tpe_time / n_seeds, rnd_time / n_seeds);
  return 0;
}
