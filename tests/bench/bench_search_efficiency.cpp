// Search efficiency: TPE vs random search on the real pipeline space (the plugins' declared spaces, as
// `compactmind plugins --json` lists them) with a cheap model of compressing the fixture checkpoint
// (search_bench_model.h: exact size accounting, modelled PPL). Reports, over many seeds, how many
// trials each strategy needs before its best feasible PPL is within 1% (and 5%) of the best feasible
// value, with distribution-free 95% confidence intervals on the medians.
//
//   bench_search_efficiency [--seeds 100] [--trials 500] [--target-ratio 0.6] [--startup N]
//                           [--jobs 1] [--univariate 0|1] [--plugins FILE] [--config FILE]
//
// --plugins: the output of `compactmind plugins --json` (default: tests/bench/data/plugin_spaces.json,
// recorded from today's plugins); --config: the checkpoint's config.json (default: tiny-llama2).
// --startup: TPE startup trials (default: the library's default for the budget). --univariate 1: TPE
// with one estimator per dimension instead of the grouped multivariate ones. --jobs: seeds run in
// parallel threads (results do not depend on it).
#include "search_bench_model.h"

#include "compactmind/search/pipeline_space.h"
#include "compactmind/search/random_draws.h"
#include "compactmind/search/random_sampler.h"
#include "compactmind/search/study.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace compactmind;
using namespace compactmind::search;
using compactmind::bench::CompressionModel;

namespace {

// The kind as `compactmind plugins --json` spells it (compactmind::to_string of the contract's kinds).
compactmind::PluginKind plugin_kind_named(const std::string& text, const std::string& path) {
  using compactmind::PluginKind;
  for (const PluginKind kind : {PluginKind::kPruning, PluginKind::kQuantization, PluginKind::kRetraining, PluginKind::kOther})
    if (compactmind::to_string(kind) == text) return kind;
  throw std::runtime_error(path + ": unknown plugin kind '" + text + "' (expected pruning, quantization, retraining or other)");
}

std::vector<PluginEntry> read_plugins(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error(path + ": cannot open the plugin list");
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(path + ": not valid JSON (" + error.what() + ")");
  }
  if (!root.contains("plugins") || !root["plugins"].is_array())
    throw std::runtime_error(path + ": expected {\"plugins\": [...]} as `compactmind plugins --json` prints");
  std::vector<PluginEntry> plugins;
  for (const auto& plugin : root["plugins"]) {
    if (!plugin.contains("name") || !plugin.contains("kind") || !plugin.contains("space"))
      throw std::runtime_error(path + ": a plugin lacks name, kind or space");
    const std::string name = plugin["name"];
    plugins.push_back({name, plugin_kind_named(plugin["kind"], path),
                       compactmind::ParameterSpace::parse(plugin["space"].dump(), name)});
  }
  return plugins;
}

struct Run {
  int to_1 = 0, to_5 = 0;  // 1-based trials until within 1% / 5% of the best; 0 = not within the budget
  double seconds = 0.0;
};

// Runs a study until its best feasible PPL is within 1% of `best_known` (later trials cannot change
// the figures) or the budget is spent.
Run run(const std::string& strategy, uint64_t seed, int n_trials, int startup, bool univariate,
        const PipelineSpace& space,
        const CompressionModel& model, double target, double best_known) {
  StudyOptions options;
  options.pruner.enabled = false;
  options.to_pipeline = [&space](const nlohmann::json& point) { return space.to_pipeline(point); };
  SamplerOptions sampler{seed, n_trials};
  sampler.n_startup_trials = startup;
  sampler.tpe_multivariate = !univariate;
  Study study(space.space(), options, make_sampler(strategy, sampler));
  const auto objective = [&model, target](const Trial& trial, TrialReporter&) {
    const auto score = model.evaluate(trial.pipeline);
    return TrialOutcome{{{"ppl", score.ppl}, {"size_ratio", score.size_ratio}}, {score.size_ratio - target}, nullptr};
  };
  Run out;
  const auto start = std::chrono::steady_clock::now();
  double best = INFINITY;
  size_t seen = 0;
  for (int done = 0; done < n_trials && !out.to_1;) {
    done = std::min(n_trials, done + 10);
    study.optimize(done, objective);
    for (; seen < study.trials().size(); ++seen) {
      const Trial& trial = study.trials()[seen];
      if (trial.state == TrialState::kComplete && trial.feasible()) best = std::min(best, *trial.value("ppl"));
      const int number = static_cast<int>(seen + 1);
      if (!out.to_5 && best <= best_known * 1.05) out.to_5 = number;
      if (!out.to_1 && best <= best_known * 1.01) out.to_1 = number;
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

// Runs not reaching the tolerance count as budget + 1: they sort last, as a censored time should.
std::vector<int> censored_sorted(const std::vector<int>& values, int budget) {
  std::vector<int> out;
  for (const int v : values) out.push_back(v ? v : budget + 1);
  std::sort(out.begin(), out.end());
  return out;
}

double binomial_half_cdf(int k, int n) {  // P(Binomial(n, 1/2) <= k)
  double total = 0.0;
  for (int i = 0; i <= k; ++i) total += std::exp(std::lgamma(n + 1) - std::lgamma(i + 1) - std::lgamma(n - i + 1) - n * std::log(2.0));
  return total;
}

// Median and its distribution-free 95% interval [x_(k), x_(n+1-k)], k the largest with
// P(Binomial(n, 1/2) <= k - 1) <= 0.025 (exact coverage >= 95%, no resampling).
struct MedianCi {
  int median = 0, low = 0, high = 0;
};
MedianCi median_ci(const std::vector<int>& sorted) {
  const int n = static_cast<int>(sorted.size());
  int k = 1;
  while (k + 1 <= n / 2 && binomial_half_cdf(k, n) <= 0.025) ++k;
  return {sorted[static_cast<size_t>(n / 2)], sorted[static_cast<size_t>(k - 1)], sorted[static_cast<size_t>(n - k)]};
}

// Percentile bootstrap (independent resampling of the two seed sets) of median(a) / median(b).
std::pair<double, double> ratio_ci(const std::vector<int>& a, const std::vector<int>& b) {
  auto rng = trial_rng(2024, 0);
  std::vector<double> ratios;
  std::vector<int> ra(a.size()), rb(b.size());
  for (int r = 0; r < 2000; ++r) {
    for (auto& v : ra) v = a[uniform_index(rng, a.size())];
    for (auto& v : rb) v = b[uniform_index(rng, b.size())];
    std::nth_element(ra.begin(), ra.begin() + static_cast<long>(ra.size() / 2), ra.end());
    std::nth_element(rb.begin(), rb.begin() + static_cast<long>(rb.size() / 2), rb.end());
    ratios.push_back(static_cast<double>(ra[ra.size() / 2]) / rb[rb.size() / 2]);
  }
  std::sort(ratios.begin(), ratios.end());
  return {ratios[50], ratios[1949]};
}

// Wilson score 95% interval of a proportion.
std::pair<double, double> wilson(int successes, int n) {
  const double z = 1.96, p = static_cast<double>(successes) / n, z2n = z * z / n;
  const double centre = (p + z2n / 2) / (1 + z2n), half = z * std::sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
  return {centre - half, centre + half};
}

std::string cell(int value, int budget) { return value > budget ? ">" + std::to_string(budget) : std::to_string(value); }

void summarise(const char* label, const std::vector<int>& tpe, const std::vector<int>& rnd, int budget) {
  const auto ts = censored_sorted(tpe, budget), rs = censored_sorted(rnd, budget);
  const auto t = median_ci(ts), r = median_ci(rs);
  const int n = static_cast<int>(ts.size());
  const int t_hit = static_cast<int>(std::count_if(tpe.begin(), tpe.end(), [](int v) { return v > 0; }));
  const int r_hit = static_cast<int>(std::count_if(rnd.begin(), rnd.end(), [](int v) { return v > 0; }));
  const auto tw = wilson(t_hit, n), rw = wilson(r_hit, n);
  const auto ratio = ratio_ci(ts, rs);
  std::printf("trials to %s: tpe median %s [95%% CI %s, %s], reached %d/%d (%.0f%% [%.0f, %.0f]); "
              "random median %s [%s, %s], reached %d/%d (%.0f%% [%.0f, %.0f]); "
              "median ratio tpe/random %.2f [bootstrap 95%% CI %.2f, %.2f]\n",
              label, cell(t.median, budget).c_str(), cell(t.low, budget).c_str(), cell(t.high, budget).c_str(), t_hit, n,
              100.0 * t_hit / n, 100 * tw.first, 100 * tw.second, cell(r.median, budget).c_str(),
              cell(r.low, budget).c_str(), cell(r.high, budget).c_str(), r_hit, n, 100.0 * r_hit / n, 100 * rw.first,
              100 * rw.second, static_cast<double>(t.median) / r.median, ratio.first, ratio.second);
}

std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(file >> one >> five >> fifteen)) return "unknown";
  return one + " " + five + " " + fifteen;
}

}  // namespace

int main(int argc, char** argv) {
  int n_seeds = 100, n_trials = 500, startup = -1, jobs = 1;
  bool univariate = false;
  double target = 0.6;
  std::string plugins_path = COMPACTMIND_BENCH_PLUGIN_SPACES;
  std::string config_path = std::string(COMPACTMIND_FIXTURES_DIR) + "/models/tiny-llama2/config.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seeds")) n_seeds = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--trials")) n_trials = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--target-ratio")) target = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--startup")) startup = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--jobs")) jobs = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--univariate")) univariate = std::atoi(argv[i + 1]) != 0;
    else if (!std::strcmp(argv[i], "--plugins")) plugins_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--config")) config_path = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "unknown option %s (expected --seeds N, --trials N, --target-ratio R, --startup N, --jobs N, --univariate 0|1, "
                   "--plugins FILE, --config FILE)\n",
                   argv[i]);
      return 2;
    }
  }
  if (n_seeds < 1 || n_trials < 1) {
    std::fprintf(stderr, "--seeds and --trials must be at least 1\n");
    return 2;
  }
  try {
    const PipelineSpace space(read_plugins(plugins_path), {true});
    const CompressionModel model(compactmind::bench::CheckpointShape::from_config(config_path));
    std::printf("plugins %s\ncheckpoint %s (%lld bytes)\n", plugins_path.c_str(), config_path.c_str(),
                static_cast<long long>(model.base_bytes()));
    std::printf("search space: %zu dimensions, fingerprint %s; target ratio %.3g; %d trials; %d seeds; tpe startup %s, %s\n",
                space.space().dimensions().size(), space.space().fingerprint().c_str(), target, n_trials, n_seeds,
                startup >= 0 ? std::to_string(startup).c_str() : "default", univariate ? "univariate" : "grouped multivariate");
    std::printf("threads: %d (of %u hardware); load average at start %s\n", jobs, std::thread::hardware_concurrency(),
                load_average().c_str());

    const double best_known = model.best_feasible_ppl(target);
    if (!std::isfinite(best_known)) {
      std::printf("no pipeline of this space fits a size ratio of %.3g on this checkpoint\n", target);
      return 1;
    }
    double sampled = INFINITY;
    std::vector<double> feasible;
    auto rng = trial_rng(12345, 0);
    for (int i = 0; i < 50000; ++i) {
      const auto score = model.evaluate(space.to_pipeline(sample_point_uniform(space.space(), rng)));
      if (score.size_ratio <= target) sampled = std::min(sampled, score.ppl), feasible.push_back(score.ppl);
    }
    const auto within = [&](double tolerance) {
      return static_cast<int>(std::count_if(feasible.begin(), feasible.end(),
                                            [&](double ppl) { return ppl <= best_known * (1 + tolerance); }));
    };
    if (sampled < best_known * (1 - 1e-9)) {
      std::printf("model error: a uniform sample (%.6f) beats the computed optimum (%.6f)\n", sampled, best_known);
      return 1;
    }
    std::printf("best feasible PPL %.5f; of 50000 uniform samples %zu feasible, best %.5f, %d within 1%%, %d within 5%%\n\n",
                best_known, feasible.size(), sampled, within(0.01), within(0.05));

    std::vector<Run> tpe(static_cast<size_t>(n_seeds)), rnd(static_cast<size_t>(n_seeds));
    std::atomic<int> next{0};
    std::vector<std::thread> workers;
    for (int j = 0; j < jobs; ++j)
      workers.emplace_back([&] {
        for (int s; (s = next++) < n_seeds;) {
          const uint64_t seed = 1 + static_cast<uint64_t>(s);
          tpe[static_cast<size_t>(s)] = run("bayesian", seed, n_trials, startup, univariate, space, model, target, best_known);
          rnd[static_cast<size_t>(s)] = run("random", seed, n_trials, startup, univariate, space, model, target, best_known);
        }
      });
    for (auto& worker : workers) worker.join();

    std::printf("%-6s | %-21s | %-21s | %s\n", "seed", "trials to 1%: tpe rnd", "trials to 5%: tpe rnd",
                "seconds tpe rnd");
    std::vector<int> tpe_1, rnd_1, tpe_5, rnd_5;
    double tpe_time = 0, rnd_time = 0;
    for (int s = 0; s < n_seeds; ++s) {
      const Run& t = tpe[static_cast<size_t>(s)];
      const Run& r = rnd[static_cast<size_t>(s)];
      tpe_1.push_back(t.to_1), rnd_1.push_back(r.to_1), tpe_5.push_back(t.to_5), rnd_5.push_back(r.to_5);
      tpe_time += t.seconds, rnd_time += r.seconds;
      const auto shown = [n_trials](int v) { return cell(v ? v : n_trials + 1, n_trials); };
      std::printf("%-6d | %9s %9s  | %9s %9s  | %.2f %.2f\n", s + 1, shown(t.to_1).c_str(), shown(r.to_1).c_str(),
                  shown(t.to_5).c_str(), shown(r.to_5).c_str(), t.seconds, r.seconds);
    }
    std::printf("\n");
    summarise("1%", tpe_1, rnd_1, n_trials);
    summarise("5%", tpe_5, rnd_5, n_trials);
    std::printf("sampler + loop time per run (stopping at 1%%): tpe %.2f s, random %.2f s (mean); load average at end %s\n",
                tpe_time / n_seeds, rnd_time / n_seeds, load_average().c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_search_efficiency: %s\n", error.what());
    return 1;
  }
  return 0;
}
