// `compactmind search`: the CLI of the pipeline search (search_runner.h, docs/cli.md). Every option
// also answers to the report's underscore spelling (--model_path, --n_trials, --target_ratio, ...).
#include "compactmind/host/command.h"
#include "compactmind/host/search_runner.h"

#include <cstdio>
#include <iostream>
#include <memory>

namespace compactmind::host {
namespace {

struct SearchArguments {
  SearchOptions options;
  double target_ratio = 0.0;  // 0: unconstrained
};

void print_text(const nlohmann::json& summary) {
  const auto& counts = summary.at("counts");
  std::printf("%s search, %d trials: %d complete, %d infeasible, %d pruned, %d failed (%.1f s per trial)\n",
              summary.at("strategy").get<std::string>().c_str(), counts.at("finished").get<int>(),
              counts.at("complete").get<int>(), counts.at("infeasible").get<int>(), counts.at("pruned").get<int>(),
              counts.at("failed").get<int>(), summary.at("seconds_per_trial").get<double>());
  if (summary.at("best").is_null()) {
    std::printf("no complete feasible trial\n");
    return;
  }
  const auto& best = summary.at("best");
  const auto& final_score = summary.at("final");
  std::printf("best: trial %d: %s\n", best.at("number").get<int>() + 1,
              best.at("pipeline_text").get<std::string>().c_str());
  std::printf("  ppl %.4f on %lld search windows; %.4f on the whole text (%lld windows); size ratio %.4f\n",
              best.at("ppl").get<double>(), static_cast<long long>(summary.at("eval_windows").get<int64_t>()),
              final_score.at("ppl").get<double>(), static_cast<long long>(final_score.at("windows").get<int64_t>()),
              final_score.at("size_ratio").get<double>());
  if (final_score.contains("saved")) std::printf("  saved to %s\n", final_score.at("saved").get<std::string>().c_str());
  if (summary.contains("pareto_front")) {
    std::printf("Pareto front (ppl, size ratio):\n");
    for (const auto& point : summary.at("pareto_front"))
      std::printf("  trial %d: %.4f, %.4f  %s\n", point.at("number").get<int>() + 1, point.at("ppl").get<double>(),
                  point.at("size_ratio").get<double>(), point.at("pipeline_text").get<std::string>().c_str());
  }
  if (summary.contains("report")) std::printf("report: %s\n", summary.at("report").dump().c_str());
}

void setup_search(CLI::App& app) {
  auto arguments = std::make_shared<SearchArguments>();
  SearchOptions& options = arguments->options;
  CLI::App* command = app.add_subcommand(
      "search", "Search the best compression pipeline (single method or prune → retrain → quantize) for a size budget");
  command->add_option("--model,--model_path", options.data.model_dir,
                      "Hugging Face LLaMA checkpoint folder (default: the fixtures' models/tiny-llama2)");
  command->add_option("--strategy", options.strategy, "bayesian (TPE), random or grid (default bayesian)")
      ->check(CLI::IsMember({"bayesian", "tpe", "random", "grid"}));
  command->add_option("--n-trials,--n_trials", options.n_trials,
                      "finished trials the study must hold (default 10)")
      ->check(CLI::Range(1, 1000000));
  command->add_option("--retrain", options.retrain,
                      "hybrid pipelines get a retraining step between pruning and quantization (true|false, default false)");
  command->add_option("--target-ratio,--target_ratio", arguments->target_ratio,
                      "hard constraint: size ratio (compressed ÷ base bytes) at most this (default: none)")
      ->check(CLI::Range(0.0, 100.0));
  command->add_option("--objective", options.objective, "ppl (minimise PPL) or pareto (map the PPL/size front)")
      ->check(CLI::IsMember({"ppl", "pareto"}));
  command->add_option("--eval-windows,--eval_windows", options.eval_windows,
                      "windows of --seqlen tokens each trial is evaluated on (default 8)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  command->add_option("--eval-chunks,--eval_chunks", options.eval_chunks,
                      "intermediate PPL reports per trial, for early stopping (default 4)")
      ->check(CLI::Range(1, 1 << 20));
  command->add_option("--pruner", options.prune_trials, "stop trials worse than the median early (true|false, default true)");
  command->add_option("--n-startup-trials,--n_startup_trials", options.n_startup_trials,
                      "random trials before TPE starts (default: min(10, max(3, n_trials / 4)))")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--space", options.space,
                      "narrow the plugins' declared spaces for this search: JSON or a file, e.g. "
                      "'{\"finetune.steps\": {\"high\": 30}, \"distill\": false}' (docs/cli.md)");
  command->add_option("--study-name,--study_name", options.study_name, "study name inside --storage (default compactmind)");
  command->add_option("--storage", options.storage, "SQLite study file; every trial is written when it ends");
  command->add_flag("--resume", options.resume, "continue the study in --storage until it holds --n-trials trials");
  command->add_option("--save-best,--save_best", options.save_best, "save the best compressed model to this folder");
  command->add_flag("--overwrite", options.overwrite,
                    "with --save-best: replace the model already saved in that folder (never another kind of "
                    "folder, never --model)");
  command->add_option("--report,--report_dir", options.report_dir,
                      "write trials.json, trials.csv, history.svg, pareto.svg and report.html to this folder");
  command->add_flag("--json", options.json, "print one JSON object on stdout (logs and progress go to stderr)");
  add_data_options(*command, options.data, /*underscore_aliases=*/true);
  command->callback([arguments] {
    SearchOptions options = arguments->options;
    if (arguments->target_ratio > 0.0) options.target_ratio = arguments->target_ratio;
    const nlohmann::json summary = run_search(options);
    if (options.json)
      std::cout << summary.dump() << std::endl;
    else
      print_text(summary);
    if (summary.contains("report_error")) throw std::runtime_error(summary.at("report_error").get<std::string>());
  });
}

}  // namespace
}  // namespace compactmind::host

COMPACTMIND_REGISTER_COMMAND(compactmind::host::setup_search);
