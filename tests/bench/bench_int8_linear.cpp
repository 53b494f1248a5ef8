// Int8Linear (W8A8, oneDNN s8×s8→s32) vs the fp32 linear (at::linear, what DenseLinear runs) at the
// shapes of one TinyLlama-1.1B decoder layer. Built with the benchmarks, not run by ctest.
//   bench_int8_linear [--tokens 512] [--threads 2] [--repeats 10] [--act per_token|per_tensor]
#include "compactmind/int8_linear.h"
#include "compactmind/threads.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace compactmind;

namespace {

struct Shape {
  const char* name;
  int64_t out_features;
  int64_t in_features;
};

// TinyLlama-1.1B (configs/shapes/tinyllama-1.1b.json): hidden 2048, 32 heads of 64, 4 kv heads,
// MLP 5632.
const std::vector<Shape> kTinyLlamaLayer = {
    {"q_proj", 2048, 2048}, {"k_proj", 256, 2048},   {"v_proj", 256, 2048},
    {"o_proj", 2048, 2048}, {"gate_proj", 5632, 2048}, {"up_proj", 5632, 2048},
    {"down_proj", 2048, 5632}};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median-free but robust enough: best of `repeats` after one warm-up call.
template <typename Body>
double best_seconds(int repeats, Body&& body) {
  body();
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const double start = seconds_now();
    body();
    best = std::min(best, seconds_now() - start);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t tokens = 512;
  int threads = 2;
  int repeats = 10;
  std::string act = "per_token";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) tokens = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--act")) act = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  const int used_threads = set_threads(threads);
  std::printf("threads %d, tokens %lld, activations %s, best of %d\n", used_threads,
              static_cast<long long>(tokens), act.c_str(), repeats);
  std::printf("%-10s %12s %12s %12s %12s %8s\n", "layer", "fp32 ms", "int8 ms", "fp32 GF/s",
              "int8 GOP/s", "speedup");
  at::InferenceMode inference;
  at::manual_seed(0);
  double total_fp32 = 0.0, total_int8 = 0.0;
  for (const Shape& shape : kTinyLlamaLayer) {
    const at::Tensor weight = at::randn({shape.out_features, shape.in_features}) * 0.02;
    const at::Tensor input = at::randn({1, tokens, shape.in_features});
    auto int8 = Int8Linear::quantize(weight, WeightQuant::kPerChannel, {parse_act_quant(act), false});
    const double fp32_s = best_seconds(repeats, [&] { at::linear(input, weight); });
    const double int8_s = best_seconds(repeats, [&] { int8->forward(input); });
    const double ops = 2.0 * double(tokens) * double(shape.in_features) * double(shape.out_features);
    total_fp32 += fp32_s;
    total_int8 += int8_s;
    std::printf("%-10s %12.3f %12.3f %12.1f %12.1f %7.2fx\n", shape.name, fp32_s * 1e3, int8_s * 1e3,
                ops / fp32_s / 1e9, ops / int8_s / 1e9, fp32_s / int8_s);
  }
  std::printf("%-10s %12.3f %12.3f %12s %12s %7.2fx\n", "layer", total_fp32 * 1e3, total_int8 * 1e3, "",
              "", total_fp32 / total_int8);
  return 0;
}
