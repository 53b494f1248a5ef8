// Forward latency of a random TinyLlama-1.1B-shaped model before and after llm-pruner (applied
// through the host's plugin registry, as a pipeline would). Built with the benchmarks, not run by
// ctest; figures in docs/performance.md ("Structured pruning").
//   bench_pruned_latency [--ratio 0.28] [--tokens 128] [--repeats 3] [--threads 2] [--config FILE]
// LLM-Pruner reports 1.18x on LLaMA-7B at 20% of parameters removed.
#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_config.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/random_model.h"
#include "compactmind/threads.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace compactmind;

namespace {

// TinyLlama-1.1B's config.json (TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T): 22 layers,
// hidden 2048, 32 query heads of 64, 4 key/value heads, MLP 5632, vocab 32000, untied lm_head.
const char* kTinyLlamaConfig = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048,
  "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
  "num_key_value_heads": 4, "vocab_size": 32000, "max_position_embeddings": 2048,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": false,
  "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"})";

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median of `repeats` timed forwards after one warm-up.
double median_forward_seconds(const LlamaModel& model, const at::Tensor& ids, int repeats) {
  c10::InferenceMode inference;
  model.forward(ids);
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const double start = seconds_now();
    model.forward(ids);
    times.push_back(seconds_now() - start);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
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
  const std::string config_file = option(argc, argv, "--config", "");
  std::printf("threads: %d\n", threads);

  const LlamaConfig config = config_file.empty()
                                 ? LlamaConfig::from_json(nlohmann::json::parse(kTinyLlamaConfig),
                                                          "<built-in TinyLlama-1.1B config>")
                                 : LlamaConfig::load(config_file);
  LlamaModel model = random_llama_model(config, /*seed=*/1);
  const at::Tensor ids = at::randint(3, config.vocab_size, {1, tokens}, at::kLong);

  const int64_t parameters_before = model.parameter_count();
  const double before = median_forward_seconds(model, ids, repeats);
  std::printf("unpruned: %lld parameters, forward [1, %lld] median of %d: %.3f s\n",
              static_cast<long long>(parameters_before), static_cast<long long>(tokens), repeats, before);

  host::DiscoveryOptions discovery;
  discovery.plugin_dirs = {COMPACTMIND_BUILD_PLUGIN_DIR};
  discovery.use_environment = false;
  discovery.use_default_dirs = false;
  const host::PluginRegistry registry = host::PluginRegistry::discover(discovery);
  MethodContext context;
  // Pruned in place (one model in memory: 4.4 GB in float32); l2 needs no calibration data, and which
  // groups go does not change the cost.
  registry.apply("llm-pruner", model, {{"ratio", ratio}, {"importance", "l2"}, {"target", "both"}},
                 context);
  const int64_t parameters_after = model.parameter_count();
  const double after = median_forward_seconds(model, ids, repeats);
  std::printf("pruned (ratio %.2f, l2, both, automatic layers): %lld parameters (%.1f%% removed), "
              "forward median of %d: %.3f s\n",
              ratio, static_cast<long long>(parameters_after),
              100.0 * (parameters_before - parameters_after) / parameters_before, repeats, after);
  std::printf("speedup: %.3fx\n", before / after);
  return 0;
}
