// Shared option checks and runtime settings (cli_checks.h).
#include "compactmind/host/cli_checks.h"

#include "compactmind/log.h"
#include "compactmind/threads.h"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace compactmind::host {
namespace {

// The text as a whole number, or false (CLI11's own range checks print the type's bound, a
// 300-digit number for doubles).
bool parse_whole_number(const std::string& text, long long& value) {
  size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == text.size();
}

}  // namespace

CLI::Validator positive_count(const std::string& default_hint) {
  return CLI::Validator(
      [default_hint](std::string& input) -> std::string {
        long long value = 0;
        if (!parse_whole_number(input, value)) return "'" + input + "' is not a whole number";
        if (value < 1) return "must be at least 1, got " + input + " (" + default_hint + ")";
        return {};
      },
      "≥ 1");
}

void add_thread_options(CLI::App& command, int& threads, bool& oversubscribe) {
  command
      .add_option("--threads", threads,
                  "threads for LibTorch and OpenBLAS (default 0: every available core; more are capped at the "
                  "cores available unless --oversubscribe)")
      ->check(CLI::Validator(
          [](std::string& input) -> std::string {
            long long value = 0;
            if (!parse_whole_number(input, value) || value < 0 || value > 1 << 16)
              return "must be 0 (every available core) or a count of threads, got '" + input + "'";
            return {};
          },
          "≥ 0"));
  command.add_flag("--oversubscribe", oversubscribe, "use --threads even when it exceeds the cores available");
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int apply_threads(int requested, bool oversubscribe) {
  const int cores = available_cores();
  int threads = requested <= 0 ? cores : requested;
  if (threads > cores && !oversubscribe) {
    log_warn("--threads " + std::to_string(threads) + " is more than the " + std::to_string(cores) +
             " cores available: using " + std::to_string(cores) +
             " (more threads than cores only slow LibTorch down; pass --oversubscribe to insist)");
    threads = cores;
  }
  return set_threads(threads);
}

void warn_if_beyond_positions(const std::string& option, int64_t seqlen, int64_t max_position_embeddings,
                              const std::string& model_dir) {
  if (max_position_embeddings <= 0 || seqlen <= max_position_embeddings) return;
  log_warn(option + " " + std::to_string(seqlen) + " is beyond max_position_embeddings " +
           std::to_string(max_position_embeddings) + " of '" + model_dir + "': positions past " +
           std::to_string(max_position_embeddings) +
           " were never trained, so the PPL measured there says little about the model");
}

}  // namespace compactmind::host
