// Model loading cost: wall and CPU seconds, and peak RSS ÷ float32 model bytes (the aim is ≤ 1.2).
// Usage: bench_model_load MODEL_DIR [THREADS] [SAVE_DIR]
//   e.g. compactmind tools random-model --shape configs/shapes/tinyllama-1.1b.json --out /tmp/tinyllama
//        bench_model_load /tmp/tinyllama 2
// With SAVE_DIR, also times saving the loaded model there in float16.
#include "compactmind/llama_model.h"
#include "compactmind/threads.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss * 1024.0;  // Linux reports kilobytes
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [THREADS] [SAVE_DIR]\n", argv[0]);
    return 2;
  }
  const int threads = compactmind::set_threads(argc > 2 ? std::stoi(argv[2]) : 0);
  const double baseline_rss = peak_rss_bytes();  // LibTorch's own libraries, before any weight
  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const auto model = compactmind::LlamaModel::load(argv[1]);
  const double load_wall = seconds_since(start);
  const double load_cpu = cpu_seconds() - cpu_start;
  const double model_bytes = double(model.stored_bytes(at::kFloat));
  const double peak = peak_rss_bytes();
  std::printf("threads %d\nparameters %lld\nfloat32 bytes %.0f\nload wall %.2f s, cpu %.2f s\n", threads,
              static_cast<long long>(model.parameter_count()), model_bytes, load_wall, load_cpu);
  std::printf("peak RSS %.0f (before loading %.0f)\npeak RSS / model bytes %.3f\n", peak, baseline_rss,
              peak / model_bytes);
  if (argc > 3) {
    const double save_cpu_start = cpu_seconds();
    const auto save_start = std::chrono::steady_clock::now();
    model.save(argv[3]);
    std::printf("save (float16) wall %.2f s, cpu %.2f s\npeak RSS after save / model bytes %.3f\n",
                seconds_since(save_start), cpu_seconds() - save_cpu_start, peak_rss_bytes() / model_bytes);
  }
  return 0;
}
