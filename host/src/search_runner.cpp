// The search behind `compactmind search` (search_runner.h). The search library (search/, its
// SearchSession) owns the space, the samplers, the pruner, the study file and the reports; this file
// connects them to the plugins, the executor and the evaluator.
#include "compactmind/host/search_runner.h"

#include "compactmind/host/model_evaluator.h"
#include "compactmind/host/pipeline.h"
#include "compactmind/host/pipeline_executor.h"
#include "compactmind/host/space_overrides.h"
#include "compactmind/log.h"
#include "compactmind/model_fingerprint.h"
#include "compactmind/save_target.h"
#include "compactmind/search/report_writer.h"
#include "compactmind/search/search_session.h"
#include "compactmind/text_data.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace compactmind::host {
namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, value);
  return text;
}

// What else makes two runs' trials comparable, beyond what the search session checks itself
// (strategy, seed, retrain, target ratio, objective): resuming with any of these changed would mix
// trials scored on different data in one study. The model and the texts by content, not by path: the
// same folder spelled with a trailing slash is the same model, a model replaced behind the same path
// is not (model_fingerprint.h).
nlohmann::json evaluation_identity(const SearchOptions& options) {
  return {{"model_fingerprint", model_fingerprint(options.data.model_dir)},
          {"data_sha256", sha256_hex_of_file(options.data.data)},
          {"seqlen", options.data.seqlen},
          {"eval_windows", options.eval_windows},
          {"eval_chunks", options.eval_chunks},
          {"calib_data_sha256", sha256_hex_of_file(options.data.calib_data)},
          {"calib_samples", options.data.calib_samples},
          {"calib_seqlen", options.data.calib_seqlen},
          {"train_data_sha256", sha256_hex_of_file(options.data.train_data)}};
}

// The paths as given, kept in the study for the record and never compared.
nlohmann::json evaluation_paths(const SearchOptions& options) {
  return {{"model", options.data.model_dir},
          {"data", options.data.data},
          {"calib_data", options.data.calib_data},
          {"train_data", options.data.train_data}};
}

void check_resumed_identity(const search::SearchSession& session, const SearchOptions& options) {
  nlohmann::json now = session.settings().extra;
  now.erase("paths");
  const nlohmann::json stored = session.study().record().config.value("extra", nlohmann::json::object());
  for (const auto& [key, value] : now.items()) {
    const auto found = stored.find(key);
    if (found != stored.end() && *found == value) continue;
    const bool by_content = key == "model_fingerprint" || key.find("_sha256") != std::string::npos;
    throw std::runtime_error("cannot resume study '" + options.study_name + "' in '" + options.storage +
                             "': it was run with " + key + " = " +
                             (found == stored.end() ? std::string("(unset)") : found->dump()) + ", now " +
                             value.dump() +
                             (by_content ? " (the content differs: another or an edited file behind the path)" : "") +
                             "; its trials would not be comparable — use the same options or another --storage file");
  }
}

// The objective: execute the sampled pipeline, measure its size, evaluate it in chunks.
search::TrialOutcome evaluate_trial(const PipelineExecutor& executor, const SearchOptions& options,
                                    const search::Trial& trial, search::TrialReporter& reporter) {
  log_info("trial " + std::to_string(trial.number + 1) + "/" + std::to_string(options.n_trials) + " starts: " +
           search::describe_pipeline(trial.pipeline));
  const Pipeline pipeline = resolve_pipeline(trial.pipeline, executor.registry());
  const ExecutedPipeline executed = executor.execute(pipeline, options.data.seed);
  for (const auto& step : executed.steps) reporter.add_step_time(step.method, step.seconds);

  const int64_t size_bytes = compressed_size_bytes(executor, executed.model);
  const double size_ratio = compressed_size_ratio(executor, size_bytes);
  // Known before the evaluation: kept (with its constraint) even if the trial is pruned.
  reporter.set_value(search::SearchSession::kSizeRatio, size_ratio);
  const bool feasible = !options.target_ratio || size_ratio <= *options.target_ratio;

  const int64_t chunk = std::max<int64_t>(1, (options.eval_windows + options.eval_chunks - 1) / options.eval_chunks);
  ScoreOptions score_options;
  // An infeasible trial never ranks by its PPL (TPE orders infeasible trials by violation alone, as
  // Optuna does), so it gets only the first chunk: a rough PPL for the report at a fraction of the cost.
  score_options.max_windows = feasible ? options.eval_windows : chunk;
  score_options.batch = chunk;
  score_options.show_progress = false;
  std::string pruned_because;
  score_options.on_chunk = [&](int64_t done, int64_t total, double ppl) {
    if (!std::isfinite(ppl)) return true;  // the evaluator fails the trial at the end
    // An infeasible trial reports no intermediate value: its (lightly compressed, so good) PPL would
    // raise the median bar the pruner holds feasible trials to. Measured: with it, the end-to-end TPE
    // search pruned 9 of its first 22 trials, feasible ones, against infeasible trials' medians.
    if (!feasible) return true;
    // The step is the number of windows evaluated: the same windows for every trial.
    const bool prune = reporter.report(static_cast<int>(done), ppl);
    if (prune && done < total) {
      pruned_because = "PPL " + format("%.4f", ppl) + " after " + std::to_string(done) + "/" + std::to_string(total) +
                       " windows is worse than the median of earlier trials";
      return false;
    }
    return true;
  };
  const ModelScore score = score_model(executor, executed.model, score_options);
  nlohmann::json evaluation = score.evaluation;
  evaluation["size_bytes"] = size_bytes;
  evaluation["base_size_bytes"] = executor.base_stored_bytes();
  evaluation["parameters"] = score.parameters;
  if (!feasible) evaluation["partial"] = "infeasible: evaluated on the first chunk only";
  if (!pruned_because.empty()) {
    reporter.set_evaluation(evaluation);
    throw search::TrialPruned(pruned_because);
  }
  search::TrialOutcome outcome;
  outcome.values = {{search::SearchSession::kPpl, score.perplexity.ppl},
                    {search::SearchSession::kSizeRatio, size_ratio},
                    {"size_bytes", static_cast<double>(size_bytes)},
                    {"parameters", static_cast<double>(score.parameters)},
                    {"eval_seconds", score.perplexity.seconds}};
  outcome.evaluation = evaluation;
  return outcome;
}

}  // namespace

nlohmann::json run_search(SearchOptions options) {
  resolve_data_defaults(options.data, /*default_model=*/true);
  if (options.eval_windows < 1) throw std::invalid_argument("--eval-windows must be at least 1");
  if (options.eval_chunks < 1) throw std::invalid_argument("--eval-chunks must be at least 1");
  // Before the first trial: a refused --save-best must not cost a whole search first.
  if (!options.save_best.empty()) check_save_target(options.save_best, options.overwrite, options.data.model_dir);

  DiscoveryOptions discovery;
  discovery.plugin_dirs.assign(options.data.plugin_dirs.begin(), options.data.plugin_dirs.end());
  const PluginRegistry registry = PluginRegistry::discover(discovery);
  for (const auto& rejection : registry.rejections()) log_warn(rejection.message);

  std::vector<search::PluginEntry> plugins = plugin_entries(registry);
  nlohmann::json space_overrides = nlohmann::json::object();
  if (!options.space.empty()) {
    space_overrides = read_json_argument(options.space, "space");
    apply_space_overrides(plugins, space_overrides);
  }

  search::SearchSettings settings;
  settings.strategy = options.strategy == "tpe" ? "bayesian" : options.strategy;
  settings.n_trials = options.n_trials;
  settings.seed = options.data.seed;
  settings.retrain = options.retrain;
  settings.target_ratio = options.target_ratio;
  settings.objective = options.objective;
  settings.storage = options.storage;
  settings.resume = options.resume;
  settings.study_name = options.study_name;
  settings.n_startup_trials = options.n_startup_trials;
  settings.pruner.enabled = options.prune_trials;
  settings.extra = evaluation_identity(options);
  settings.extra["space"] = space_overrides;
  settings.extra["paths"] = evaluation_paths(options);
  // Built (and a resumed study checked) before the model is loaded: option errors cost nothing.
  search::SearchSession session(plugins, settings);
  if (options.resume) check_resumed_identity(session, options);
  {
    std::string names;
    for (const auto& plugin : plugins) names += (names.empty() ? "" : ", ") + plugin.name + " (" + to_string(plugin.kind) + ")";
    log_info("search space from " + std::to_string(plugins.size()) + " plugins: " + names + "; " +
             std::to_string(session.pipeline_space().space().dimensions().size()) + " dimensions");
  }
  if (options.resume) {
    const auto counts = search::count_trials(session.study().trials());
    log_info("resuming study '" + options.study_name + "' from " + options.storage + ": " +
             std::to_string(counts.finished()) + " finished trials" +
             (session.study().redone_trials().empty()
                  ? std::string()
                  : ", " + std::to_string(session.study().redone_trials().size()) + " interrupted trial(s) to redo"));
  }

  // The texts every trial would fail on are refused once, before the first trial, not N times after:
  // calibration and training text must be readable UTF-8 (they are tokenized on first use), and the
  // evaluation text (tokenized by the executor) must hold the windows a trial is scored on.
  read_text_file(options.data.calib_data);
  read_text_file(options.data.train_data);
  const PipelineExecutor executor(options.data, registry);
  const int64_t eval_tokens = executor.eval_stream().ids.numel();
  if (eval_tokens < options.data.seqlen)
    throw std::runtime_error("--data '" + options.data.data + "' holds " + std::to_string(eval_tokens) +
                             " tokens, fewer than one window of --seqlen " + std::to_string(options.data.seqlen) +
                             ": every trial would fail; give a longer text or a smaller --seqlen");
  const auto start = std::chrono::steady_clock::now();
  const int ran = session.run(
      [&](const search::Trial& trial, search::TrialReporter& reporter) {
        return evaluate_trial(executor, options, trial, reporter);
      },
      [&session](const search::Trial& trial) { log_info(session.progress_line(trial)); });
  const double search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (session.study().sampler_exhausted()) log_info("the " + options.strategy + " strategy has no point left to propose");

  nlohmann::json summary = session.summary_json();
  const auto counts = search::count_trials(session.study().trials());
  summary["counts"]["finished"] = counts.finished();
  summary["objective"] = options.objective;
  summary["retrain"] = options.retrain;
  summary["eval_windows"] = options.eval_windows;
  summary["seqlen"] = options.data.seqlen;
  summary["threads"] = executor.threads();
  summary["model"] = options.data.model_dir;
  summary["storage"] = options.storage.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.storage);
  summary["trials_run_now"] = ran;
  summary["search_seconds"] = search_seconds;
  summary["seconds_per_trial"] = ran > 0 ? search_seconds / ran : 0.0;
  summary["final"] = nullptr;

  if (const auto best = session.best()) {
    summary["best"]["pipeline_text"] = search::describe_pipeline(best->pipeline);
    log_info("re-evaluating the best trial (" + std::to_string(best->number + 1) + ") on the whole evaluation text");
    const Pipeline pipeline = resolve_pipeline(best->pipeline, registry);
    const ExecutedPipeline executed = executor.execute(pipeline, options.data.seed);
    ScoreOptions final_options;
    final_options.max_windows = options.data.max_windows;
    final_options.batch = options.data.batch;
    const ModelScore score = score_model(executor, executed.model, final_options);
    summary["final"] = {{"ppl", score.perplexity.ppl},
                        {"windows", score.perplexity.windows},
                        {"size_bytes", score.size_bytes},
                        {"size_ratio", score.size_ratio},
                        {"evaluation", score.evaluation}};
    if (!options.save_best.empty()) {
      SaveOptions save;
      save.float_dtype = executor.storage_dtype();
      save.overwrite = options.overwrite;
      executed.model.save(options.save_best, save);
      summary["final"]["saved"] = options.save_best;
      log_info("saved the best model to " + options.save_best);
    }
  } else {
    log_warn("no complete feasible trial: nothing to re-evaluate or save");
  }
  for (auto& point : summary["pareto_front"]) point["pipeline_text"] = search::describe_pipeline(point["pipeline"]);

  if (!options.report_dir.empty()) {
    search::ReportInput report = session.report_input();
    report.summary["final"] = summary["final"];
    report.summary["seconds_per_trial"] = summary["seconds_per_trial"];
    // A report that cannot be written (full disk) must not hide the search's result: the summary
    // still prints, then the command fails with this message (command_search.cpp).
    try {
      summary["report"] = search::write_report(options.report_dir, report);
      log_info("report written to " + options.report_dir);
    } catch (const std::runtime_error& error) {
      summary["report_error"] = error.what();
    }
  }
  return summary;
}

}  // namespace compactmind::host
