// Perplexity of a model pruned by llm-pruner, for the figures of docs/methods/llm-pruner.md: loads
// the model, applies the plugin through the host's registry (as a pipeline step would), evaluates
// PPL with the reference protocol on test.txt and prints one JSON line.
//   llm_pruner_ppl [--model DIR] [--ratio 0.43] [--importance taylor] [--target both]
//                  [--aggregation sum] [--layer-start -1] [--layer-end -1] [--seed 0]
//                  [--seqlen 256] [--windows -1] [--calib-windows 10] [--calib-seqlen 64] [--threads 2]
// --ratio 0 evaluates the unpruned model. Calibration (taylor) defaults to LLM-Pruner's 10 samples of
// 64 tokens, cut from the calibration text valid.txt.
#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/perplexity.h"
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

using namespace compactmind;

namespace {

const char* option(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) try {
  const std::filesystem::path fixtures = COMPACTMIND_FIXTURES_DIR;
  const std::filesystem::path model_dir =
      option(argc, argv, "--model", (fixtures / "models" / "tiny-llama2").c_str());
  const int threads = set_threads(std::atoi(option(argc, argv, "--threads", "2")));
  const int64_t seqlen = std::atoll(option(argc, argv, "--seqlen", "256"));
  const int64_t windows = std::atoll(option(argc, argv, "--windows", "-1"));
  const int64_t calib_windows = std::atoll(option(argc, argv, "--calib-windows", "10"));
  const int64_t calib_seqlen = std::atoll(option(argc, argv, "--calib-seqlen", "64"));
  const nlohmann::json params = {
      {"ratio", std::atof(option(argc, argv, "--ratio", "0.43"))},
      {"importance", option(argc, argv, "--importance", "taylor")},
      {"target", option(argc, argv, "--target", "both")},
      {"aggregation", option(argc, argv, "--aggregation", "sum")},
      {"layer_start", std::atoll(option(argc, argv, "--layer-start", "-1"))},
      {"layer_end", std::atoll(option(argc, argv, "--layer-end", "-1"))}};
  nlohmann::json resolved = params;
  if (params["importance"] == "random") resolved["seed"] = std::atoll(option(argc, argv, "--seed", "0"));
  std::fprintf(stderr, "threads: %d\n", threads);

  LlamaModel model = LlamaModel::load(model_dir);
  const Tokenizer tokenizer = Tokenizer::load(model_dir);
  const int64_t parameters_before = model.parameter_count();
  double prune_seconds = 0.0;
  const bool prune = resolved["ratio"].get<double>() > 0.0;
  if (prune) {
    const host::PluginRegistry registry =
        host::PluginRegistry::discover(host::DiscoveryOptions::only({COMPACTMIND_BUILD_PLUGIN_DIR}));
    MethodContext context;
    context.set_calibration_windows([&] {
      const TokenStream calibration =
          tokenize_file(tokenizer, fixtures / "data" / "wikitext-2" / "valid.txt");
      return cut_windows(calibration.ids, calib_seqlen, calib_windows);
    });
    const double start = seconds_now();
    registry.apply("llm-pruner", model, resolved, context);
    prune_seconds = seconds_now() - start;
  }
  const int64_t parameters_after = model.parameter_count();

  const TokenStream test = tokenize_file(tokenizer, fixtures / "data" / "wikitext-2" / "test.txt");
  PerplexityOptions options;
  options.seqlen = seqlen;
  options.max_windows = windows;
  options.batch = 4;
  options.show_progress = false;
  const PerplexityResult result = evaluate_perplexity(model, test.ids, options);

  nlohmann::json line = {{"model", model_dir.filename().string()},
                         {"params", prune ? resolved : nlohmann::json()},
                         {"parameters_before", parameters_before},
                         {"parameters_after", parameters_after},
                         {"removed_fraction",
                          static_cast<double>(parameters_before - parameters_after) / parameters_before},
                         {"ppl", result.ppl},
                         {"windows", result.windows},
                         {"seqlen", seqlen},
                         {"calibration", prune && resolved["importance"] == "taylor"
                                             ? nlohmann::json{calib_windows, calib_seqlen}
                                             : nlohmann::json()},
                         {"prune_seconds", prune_seconds},
                         {"eval_seconds", result.seconds},
                         {"threads", threads}};
  std::cout << line.dump() << std::endl;
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "llm_pruner_ppl: %s\n", error.what());
  return 1;
}
