// Evaluation throughput (docs/performance.md, "Evaluation throughput"), measured in one run:
//  1. the fp32 GEMM rate of this machine on the model's own linear shapes: at::mm of [seqlen, in] ×
//     [in, out] for each distinct shape, weighted by how often the model has it;
//  2. eval tokens/s of evaluate_perplexity on a random model of that shape (random token windows);
//  3. their ratio, 2 × linear params × tokens/s ÷ GEMM FLOP/s: the share of the GEMM rate the whole
//     evaluation reaches (aim ≥ 0.8), and peak RSS (VmHWM) ÷ float32 model bytes (aim ≤ 1.2).
// "Linear params" are every linear weight, lm_head included (it does 2·vocab·hidden FLOPs per token);
// the embedding lookup does no arithmetic.
//
// Usage: bench_eval [--shape FILE] [--threads T] [--seqlen N] [--windows W] [--batch B] [--layers L]
//   defaults: configs/shapes/tinyllama-1.1b.json, all cores, 512, 3, 1, the shape's layer count.
#include "compactmind/llama_config.h"
#include "compactmind/llama_model.h"
#include "compactmind/perplexity.h"
#include "compactmind/random_model.h"
#include "compactmind/threads.h"

#include <c10/core/InferenceMode.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

using compactmind::LlamaConfig;
using compactmind::LlamaModel;

struct BenchOptions {
  std::string shape = COMPACTMIND_SOURCE_DIR "/configs/shapes/tinyllama-1.1b.json";
  int threads = 0;
  int64_t seqlen = 512;
  int64_t windows = 3;
  int64_t batch = 1;
  int64_t layers = -1;  // < 0: as the shape says (fewer layers: a quick look while profiling)
};

BenchOptions parse(int argc, char** argv) {
  BenchOptions options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--shape") options.shape = value;
    else if (flag == "--threads") options.threads = std::stoi(value);
    else if (flag == "--seqlen") options.seqlen = std::stoll(value);
    else if (flag == "--windows") options.windows = std::stoll(value);
    else if (flag == "--batch") options.batch = std::stoll(value);
    else if (flag == "--layers") options.layers = std::stoll(value);
    else throw std::invalid_argument("unknown option " + flag);
  }
  if (argc % 2 == 0) throw std::invalid_argument(std::string("option ") + argv[argc - 1] + " needs a value");
  return options;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// Peak resident set size (VmHWM) in bytes.
double peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;  // kB
  }
  throw std::runtime_error("no VmHWM in /proc/self/status");
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

struct GemmTiming {
  double wall = 0;  // seconds per product
  double cpu = 0;   // CPU seconds per product (all threads)
};

// One at::mm of [rows, in] × [in, out], timed over at least ~1 s of repetitions after a warm-up.
GemmTiming time_gemm(int64_t rows, int64_t in, int64_t out) {
  const at::Tensor a = at::randn({rows, in});
  const at::Tensor b = at::randn({in, out});
  at::Tensor c = at::mm(a, b);
  int64_t repetitions = 0;
  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  do {
    at::mm_out(c, a, b);
    ++repetitions;
  } while (seconds_since(start) < 1.0 || repetitions < 3);
  return {seconds_since(start) / static_cast<double>(repetitions),
          (cpu_seconds() - cpu_start) / static_cast<double>(repetitions)};
}

}  // namespace

int main(int argc, char** argv) try {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress visible when piped to a file
  const BenchOptions options = parse(argc, argv);
  const int threads = compactmind::set_threads(options.threads);
  const c10::InferenceMode inference;
  std::printf("threads %d\nload average at start %s\n", threads, load_average().c_str());

  std::ifstream shape_file(options.shape);
  if (!shape_file) throw std::runtime_error("cannot open shape file '" + options.shape + "'");
  nlohmann::json shape_json = nlohmann::json::parse(shape_file);
  if (options.layers >= 0) shape_json["num_hidden_layers"] = options.layers;
  const LlamaConfig config = LlamaConfig::from_json(shape_json, options.shape);
  std::printf("shape %s: hidden %lld, intermediate %lld, layers %lld, heads %lld/%lld, vocab %lld; seqlen %lld\n",
              options.shape.c_str(), static_cast<long long>(config.hidden_size),
              static_cast<long long>(config.intermediate_size), static_cast<long long>(config.num_hidden_layers),
              static_cast<long long>(config.num_attention_heads), static_cast<long long>(config.num_key_value_heads),
              static_cast<long long>(config.vocab_size), static_cast<long long>(options.seqlen));

  // 1. GEMM rate on the model's linear shapes, before the model exists (so peak RSS is the model's).
  std::map<std::pair<int64_t, int64_t>, int64_t> shape_counts;  // (in, out) → how many linears
  const int64_t q_out = config.num_attention_heads * config.head_dim;
  const int64_t kv_out = config.num_key_value_heads * config.head_dim;
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    shape_counts[{config.hidden_size, q_out}] += 1;
    shape_counts[{config.hidden_size, kv_out}] += 2;
    shape_counts[{q_out, config.hidden_size}] += 1;
    shape_counts[{config.hidden_size, config.intermediate_size}] += 2;
    shape_counts[{config.intermediate_size, config.hidden_size}] += 1;
  }
  shape_counts[{config.hidden_size, config.vocab_size}] += 1;  // lm_head (or the tied embedding)
  double gemm_flops = 0;
  double gemm_time = 0;
  double gemm_cpu = 0;
  for (const auto& [in_out, count] : shape_counts) {
    const auto [in, out] = in_out;
    const GemmTiming timing = time_gemm(options.seqlen, in, out);
    const double flops = 2.0 * static_cast<double>(options.seqlen * in * out);
    std::printf("gemm [%lld, %lld] x [%lld, %lld] (x%lld): %.1f GFLOP/s\n", static_cast<long long>(options.seqlen),
                static_cast<long long>(in), static_cast<long long>(in), static_cast<long long>(out),
                static_cast<long long>(count), flops / timing.wall / 1e9);
    gemm_flops += flops * static_cast<double>(count);
    gemm_time += timing.wall * static_cast<double>(count);
    gemm_cpu += timing.cpu * static_cast<double>(count);
  }
  const double gemm_rate = gemm_flops / gemm_time;
  std::printf("GEMM rate on the model's shapes: %.1f GFLOP/s (%.1f GFLOP per CPU second)\n", gemm_rate / 1e9,
              gemm_flops / gemm_cpu / 1e9);

  // 2. Evaluation throughput on a random model of that shape.
  const LlamaModel model = compactmind::random_llama_model(config, /*seed=*/0);
  const double model_bytes = static_cast<double>(model.stored_bytes(at::kFloat));
  double linear_params = 0;
  for (const auto& [name, linear] : model.named_linears()) {
    linear_params += static_cast<double>(linear->in_features() * linear->out_features());
  }
  if (!model.lm_head) linear_params += static_cast<double>(config.vocab_size * config.hidden_size);
  at::manual_seed(0);
  const at::Tensor stream = at::randint(config.vocab_size, {(options.windows + 1) * options.seqlen}, at::kLong);

  compactmind::PerplexityOptions eval_options;
  eval_options.seqlen = options.seqlen;
  eval_options.batch = options.batch;
  eval_options.show_progress = false;
  eval_options.max_windows = 1;  // warm-up: first-touch allocations, RoPE tables, thread pools
  compactmind::evaluate_perplexity(model, stream, eval_options);
  eval_options.max_windows = options.windows;
  const double cpu_start = cpu_seconds();
  const compactmind::PerplexityResult result = evaluate_perplexity(model, stream, eval_options);
  const double eval_cpu = cpu_seconds() - cpu_start;
  const double tokens_per_second = static_cast<double>(result.tokens) / result.seconds;
  const double achieved = 2.0 * linear_params * tokens_per_second;

  std::printf("linear params %.0f (model params %lld, float32 bytes %.0f)\n", linear_params,
              static_cast<long long>(model.parameter_count()), model_bytes);
  std::printf("eval: %lld windows x %lld tokens in %.2f s wall, %.2f s CPU (%.2f cores busy)\n",
              static_cast<long long>(result.windows), static_cast<long long>(options.seqlen), result.seconds,
              eval_cpu, eval_cpu / result.seconds);
  std::printf("eval tokens/s %.1f\n", tokens_per_second);
  std::printf("eval linear FLOP/s %.1f GFLOP/s\n", achieved / 1e9);
  std::printf("ratio to GEMM rate %.3f (aim >= 0.8)\n", achieved / gemm_rate);
  // On a shared machine wall time depends on what else runs; per CPU second both sides see the same
  // cores (spin-waiting threads still count, so this is no substitute for an idle machine).
  std::printf("ratio per CPU second %.3f\n",
              (2.0 * linear_params * static_cast<double>(result.tokens) / eval_cpu) / (gemm_flops / gemm_cpu));
  std::printf("peak RSS %.0f bytes, / model bytes %.3f (aim <= 1.2)\n", peak_rss_bytes(),
              peak_rss_bytes() / model_bytes);
  std::printf("load average at end %s\n", load_average().c_str());
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "bench_eval: %s\n", error.what());
  return 1;
}
