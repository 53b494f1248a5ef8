// `compactmind search` behind its CLI: builds the pipeline space from the registered plugins, runs a
// study whose objective executes and evaluates each sampled pipeline (chunked evaluation with the
// median pruner, size-ratio constraint, failures recorded), then re-evaluates the best configuration
// on the whole evaluation text, saves it and writes the report (docs/search.md).
#pragma once

#include "compactmind/host/data_options.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace compactmind::host {

struct SearchOptions {
  DataOptions data;
  std::string strategy = "bayesian";  // bayesian | random | grid
  // Defaults sized for the README's `compactmind search` on the fixture model: a couple of minutes.
  int n_trials = 10;
  bool retrain = false;
  std::optional<double> target_ratio;  // hard constraint size_ratio ≤ target
  std::string objective = "ppl";       // ppl | pareto
  int64_t eval_windows = 8;            // evaluation budget of one trial, in windows of --seqlen
  int eval_chunks = 4;                 // intermediate PPL reports per trial (median pruner steps)
  bool prune_trials = true;            // the median pruner
  int n_startup_trials = -1;           // TPE; -1 = the library's default for n_trials
  std::string space;                   // --space JSON|FILE: narrows the declared spaces (space_overrides.h)
  std::string study_name = "compactmind";
  std::string storage;                 // SQLite study file; empty = in memory
  bool resume = false;
  std::string save_best;
  bool overwrite = false;              // --save-best may replace a model folder (save_target.h)
  std::string report_dir;
  bool json = false;
};

// Runs the search; returns the summary that `--json` prints (best trial, counts, final evaluation;
// "report_error" when the report could not be written, the caller's to report as a failure).
// Progress goes to stderr. Throws std::runtime_error / std::invalid_argument for bad options.
nlohmann::json run_search(SearchOptions options);

}  // namespace compactmind::host
