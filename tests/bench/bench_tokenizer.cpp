// Tokenizer throughput: one text file tokenized as one string (the evaluation protocol) by each model
// folder's tokenizer, best of N runs, wall and CPU seconds, tokens/s and MB/s; the load average and the
// threads (tokenization is single-threaded) are printed with the figures.
// Usage: bench_tokenizer TEXT_FILE RUNS MODEL_DIR [MODEL_DIR...]
//   e.g. (from build/) bench_tokenizer ../../shared/fixtures/data/wikitext-2/test.txt 5
//          ../../shared/fixtures/models/tiny-llama3 ../../shared/fixtures/models/tiny-llama2
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s TEXT_FILE RUNS MODEL_DIR [MODEL_DIR...]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const int runs = std::stoi(argv[2]);
  std::printf("text %s: %zu bytes; threads %d (tokenization runs on one); load average %s\n", argv[1], text.size(),
              compactmind::set_threads(1), load_average().c_str());
  for (int m = 3; m < argc; ++m) {
    const auto load_start = std::chrono::steady_clock::now();
    const compactmind::Tokenizer tokenizer = compactmind::Tokenizer::load(argv[m]);
    const double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    double best_wall = 1e30, best_cpu = 1e30;
    size_t tokens = 0;
    for (int run = 0; run < runs; ++run) {
      const double cpu_start = cpu_seconds();
      const auto start = std::chrono::steady_clock::now();
      tokens = tokenizer.encode(text).size();
      best_wall = std::min(best_wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      best_cpu = std::min(best_cpu, cpu_seconds() - cpu_start);
    }
    std::printf("%s (%s): load %.2f s; %zu tokens; best of %d: wall %.3f s (%.2f M tokens/s, %.1f MB/s), cpu %.3f s "
                "(%.2f M tokens/s)\n",
                argv[m], compactmind::tokenizer_kind_name(tokenizer.kind()).c_str(), load_seconds, tokens, runs,
                best_wall, tokens / best_wall / 1e6, text.size() / best_wall / 1e6, best_cpu, tokens / best_cpu / 1e6);
  }
  std::printf("load average after: %s\n", load_average().c_str());
  return 0;
}
