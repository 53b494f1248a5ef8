// Forward latency of a random TinyLlama-1.1B-shaped model before and after llm-pruner (applied
// through the host's plugin registry, as a pipeline would). Built with the benchmarks, not run by
// ctest; figures in docs/performance.md ("Structured pruning").
//   bench_pruned_latency [--ratio 0.28] [--tokens 128] [--repeats 3] [--threads 2]
//                        [--config configs/shapes/tinyllama-1.1b.json]
// LLM-Pruner reports 1.18x on LLaMA-7B at 20% of parameters removed.
#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_config.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/random_model.h"
#include "compactmind/threads.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace compactmind;

namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timing {
  double wall = 0.0;
  double cpu = 0.0;  // process CPU time, all threads
};

// Wall-clock and CPU time of one forward. On a shared machine the wall time follows the others'
// load; the CPU time (the work done) much less so, hence both.
Timing time_forward(const LlamaModel& model, const at::Tensor& ids) {
  const double wall_start = seconds_now();
  const std::clock_t cpu_start = std::clock();
  model.forward(ids);
  return {seconds_now() - wall_start,
          static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

const char* option(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const double ratio = std::atof(option(argc, argv, "--ratio", "0.28"));
  const int64_t tokens = std::atoll(option(argc, argv, "--tokens", "128"));
  const int repeats = std::atoi(option(argc, argv, "--repeats", "3"));
  const int threads = set_threads(std::atoi(option(argc, argv, "--threads", "2")));
  const std::string config_file =
      option(argc, argv, "--config", COMPACTMIND_SOURCE_DIR "/configs/shapes/tinyllama-1.1b.json");
  std::printf("threads: %d\n", threads);

  const LlamaConfig config = LlamaConfig::load(config_file);
  const LlamaModel unpruned = random_llama_model(config, /*seed=*/1);
  const at::Tensor ids = at::randint(3, config.vocab_size, {1, tokens}, at::kLong);

  const host::PluginRegistry registry =
      host::PluginRegistry::discover(host::DiscoveryOptions::only({COMPACTMIND_BUILD_PLUGIN_DIR}));
  MethodContext context;
  // l2 needs no calibration data, and which groups go does not change the cost.
  LlamaModel pruned = unpruned.clone();
  registry.apply("llm-pruner", pruned, {{"ratio", ratio}, {"importance", "l2"}, {"target", "both"}},
                 context);

  // Both models stay in memory (≈ 8 GB in float32) so that their timings alternate: on a shared
  // machine the load drifts, and interleaving exposes both to the same drift.
  c10::InferenceMode inference;
  time_forward(unpruned, ids);  // warm-up
  time_forward(pruned, ids);
  std::vector<double> wall_before, wall_after, cpu_before, cpu_after;
  for (int i = 0; i < repeats; ++i) {
    const Timing before = time_forward(unpruned, ids);
    const Timing after = time_forward(pruned, ids);
    wall_before.push_back(before.wall);
    cpu_before.push_back(before.cpu);
    wall_after.push_back(after.wall);
    cpu_after.push_back(after.cpu);
  }
  const int64_t parameters_before = unpruned.parameter_count();
  const int64_t parameters_after = pruned.parameter_count();
  std::printf("forward [1, %lld], median of %d alternating runs\n", static_cast<long long>(tokens),
              repeats);
  std::printf("unpruned: %lld parameters, wall %.3f s, cpu %.3f s\n",
              static_cast<long long>(parameters_before), median(wall_before), median(cpu_before));
  std::printf("pruned (ratio %.2f, l2, both, automatic layers): %lld parameters (%.1f%% removed), "
              "wall %.3f s, cpu %.3f s\n",
              ratio, static_cast<long long>(parameters_after),
              100.0 * (parameters_before - parameters_after) / parameters_before, median(wall_after),
              median(cpu_after));
  std::printf("speedup: wall %.3fx, cpu %.3fx\n", median(wall_before) / median(wall_after),
              median(cpu_before) / median(cpu_after));
  return 0;
}
