// Option checks and runtime settings every command shares: counts that must be at least 1, --threads
// (0 = every available core; more than available is capped unless --oversubscribe), and the warning
// for windows longer than the model's trained positions.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace compactmind::host {

// A whole number ≥ 1; the message tells how to get the default instead (e.g. "omit it for all windows").
CLI::Validator positive_count(const std::string& default_hint);

// --threads N (0 or more) and --oversubscribe on `command`.
void add_thread_options(CLI::App& command, int& threads, bool& oversubscribe);

// CPUs this process may run on (sched_getaffinity: respects taskset and cpusets), at least 1.
int available_cores();

// Sets LibTorch's and OpenBLAS's threads: `requested` (0: available_cores()), capped at
// available_cores() with a warning unless `oversubscribe` (an oversubscribed pool runs many times
// slower: the issue measured 50× at 1000 threads on 2 cores). Returns the count in effect.
int apply_threads(int requested, bool oversubscribe);

// Warns when `seqlen` (named by `option`) exceeds the model's max_position_embeddings: positions past
// it were never trained, so the PPL measured there says little about the model.
void warn_if_beyond_positions(const std::string& option, int64_t seqlen, int64_t max_position_embeddings,
                              const std::string& model_dir);

}  // namespace compactmind::host
