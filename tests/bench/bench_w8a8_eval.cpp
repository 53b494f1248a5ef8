// End-to-end evaluation throughput of a W8A8 model (SmoothQuant's layers, real int8 execution) vs
// the same model in fp32: perplexity evaluation (the search's inner loop) in tokens/s. Meant for a
// random TinyLlama-1.1B-shaped model (`compactmind tools random-model`); token ids are random, which
// does not change the work done. Built with the benchmarks, not run by ctest.
//   bench_w8a8_eval --model DIR [--seqlen 512] [--windows 4] [--threads 2] [--act per_token|per_tensor]
#include "compactmind/int8_linear.h"
#include "compactmind/llama_model.h"
#include "compactmind/perplexity.h"
#include "compactmind/threads.h"

#include "smoothing.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace compactmind;

namespace {

PerplexityResult timed_eval(const LlamaModel& model, const at::Tensor& stream, int64_t seqlen) {
  PerplexityOptions options;
  options.seqlen = seqlen;
  options.show_progress = false;
  // One window first so that one-time costs (oneDNN primitive creation, page faults) are excluded.
  PerplexityOptions warm_up = options;
  warm_up.max_windows = 1;
  evaluate_perplexity(model, stream, warm_up);
  return evaluate_perplexity(model, stream, options);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir;
  int64_t seqlen = 512;
  int64_t windows = 4;
  int threads = 2;
  std::string act = "per_token";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model")) model_dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seqlen")) seqlen = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--windows")) windows = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--act")) act = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  if (model_dir.empty()) {
    std::fprintf(stderr, "usage: bench_w8a8_eval --model DIR [--seqlen 512] [--windows 4] [--threads 2]\n");
    return 2;
  }
  const int used_threads = set_threads(threads);
  LlamaModel model = LlamaModel::load(model_dir);
  std::printf("model %s: %lld layers, hidden %lld; threads %d, %lld windows × %lld tokens\n", model_dir.c_str(),
              static_cast<long long>(model.layers.size()), static_cast<long long>(model.config.hidden_size),
              used_threads, static_cast<long long>(windows), static_cast<long long>(seqlen));
  at::manual_seed(0);
  const at::Tensor stream = at::randint(model.config.vocab_size, {windows * seqlen}, at::kLong);

  const PerplexityResult fp32 = timed_eval(model, stream, seqlen);
  const int64_t fp32_bytes = model.stored_bytes(at::kFloat);
  // Smoothing rescales weights and norms but adds no work: the plain conversion times the same.
  W8A8Scheme scheme;
  scheme.act_quant = parse_act_quant(act);
  smoothquant::quantize_llama_w8a8(model, scheme);
  const PerplexityResult w8a8 = timed_eval(model, stream, seqlen);
  const int64_t w8a8_bytes = model.stored_bytes(at::kFloat);

  const double fp32_rate = double(fp32.tokens) / fp32.seconds;
  const double w8a8_rate = double(w8a8.tokens) / w8a8.seconds;
  std::printf("fp32: %.1f tokens/s (%.2f s), %.2f GB as fp32\n", fp32_rate, fp32.seconds, fp32_bytes / 1e9);
  std::printf("w8a8 (%s): %.1f tokens/s (%.2f s), %.2f GB\n", act.c_str(), w8a8_rate, w8a8.seconds, w8a8_bytes / 1e9);
  std::printf("speedup %.2fx\n", w8a8_rate / fp32_rate);
  return 0;
}
