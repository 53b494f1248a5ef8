// The SmoothQuant figures of docs/methods/smoothquant.md: perplexity of one model in fp32, plain W8A8
// and SmoothQuant (α 0.5 and 0.85), each with per-token and per-tensor activations (per-channel
// weights, quantized BMM inputs), the plugin applied through the host's registry. Built with the
// benchmarks, not run by ctest.
//   smoothquant_table --model DIR [--calib FILE] [--data FILE] [--calib-samples 64] [--seqlen 256]
//                     [--max-windows -1] [--threads 2]
#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/perplexity.h"
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace compactmind;

int main(int argc, char** argv) {
  const std::string fixtures = COMPACTMIND_FIXTURES_DIR;
  std::string model_dir;
  std::string calib_file = fixtures + "/data/wikitext-2/valid.txt";
  std::string data_file = fixtures + "/data/wikitext-2/test.txt";
  int64_t calib_samples = 64, seqlen = 256, max_windows = -1;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string option = argv[i];
    if (option == "--model") model_dir = argv[i + 1];
    else if (option == "--calib") calib_file = argv[i + 1];
    else if (option == "--data") data_file = argv[i + 1];
    else if (option == "--calib-samples") calib_samples = std::atoll(argv[i + 1]);
    else if (option == "--seqlen") seqlen = std::atoll(argv[i + 1]);
    else if (option == "--max-windows") max_windows = std::atoll(argv[i + 1]);
    else if (option == "--threads") threads = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option '%s'\n", option.c_str());
      return 2;
    }
  }
  if (model_dir.empty()) {
    std::fprintf(stderr, "usage: smoothquant_table --model DIR [--calib FILE] [--data FILE] ...\n");
    return 2;
  }
  std::printf("threads %d\n", set_threads(threads));
  host::PluginRegistry registry;
  const std::string plugin = std::string(COMPACTMIND_BUILD_PLUGIN_DIR) + "/libcm-smoothquant.so";
  if (registry.add_file(plugin) == nullptr) {
    std::fprintf(stderr, "%s\n", registry.rejections().front().message.c_str());
    return 1;
  }
  const LlamaModel base = LlamaModel::load(model_dir);
  const Tokenizer tokenizer = Tokenizer::load(model_dir);
  const at::Tensor stream = tokenize_file(tokenizer, data_file).ids;
  const at::Tensor calibration = load_calibration_windows(tokenizer, calib_file, calib_samples, seqlen);
  MethodContext context;
  context.set_calibration_windows([&] { return calibration; });
  context.set_base_model(&base);

  PerplexityOptions options;
  options.seqlen = seqlen;
  options.max_windows = max_windows;
  options.show_progress = false;
  struct Row {
    const char* label;
    nlohmann::json params;  // null: the fp32 model itself
  };
  const std::vector<Row> rows = {
      {"fp32", nullptr},
      {"W8A8 per-token (no smoothing)", {{"smooth", false}, {"act_quant", "per_token"}}},
      {"W8A8 per-tensor (no smoothing)", {{"smooth", false}, {"act_quant", "per_tensor"}}},
      {"SmoothQuant a=0.5 per-token", {{"alpha", 0.5}, {"act_quant", "per_token"}}},
      {"SmoothQuant a=0.5 per-tensor", {{"alpha", 0.5}, {"act_quant", "per_tensor"}}},
      {"SmoothQuant a=0.85 per-token", {{"alpha", 0.85}, {"act_quant", "per_token"}}},
      {"SmoothQuant a=0.85 per-tensor", {{"alpha", 0.85}, {"act_quant", "per_tensor"}}},
  };
  double fp32_ppl = 0.0;
  std::printf("| configuration | PPL | vs fp32 | windows | seconds |\n| --- | --- | --- | --- | --- |\n");
  for (const Row& row : rows) {
    LlamaModel model = base.clone();
    if (!row.params.is_null()) registry.apply("smoothquant", model, row.params, context);
    const PerplexityResult result = evaluate_perplexity(model, stream, options);
    if (row.params.is_null()) fp32_ppl = result.ppl;
    std::printf("| %s | %.4f | %+.2f%% | %lld | %.1f |\n", row.label, result.ppl, 100.0 * (result.ppl / fp32_ppl - 1.0),
                static_cast<long long>(result.windows), result.seconds);
    std::fflush(stdout);
  }
  return 0;
}
