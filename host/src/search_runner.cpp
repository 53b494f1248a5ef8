// The search behind `compactmind search` (search_runner.h). The search library (search/) owns the
// space, the samplers, the pruner, storage and reports; this file connects them to the plugins, the
// executor and the evaluator.
#include "compactmind/host/search_runner.h"

#include "compactmind/host/model_evaluator.h"
#include "compactmind/host/pipeline.h"
#include "compactmind/host/pipeline_executor.h"
#include "compactmind/log.h"
#include "compactmind/search/pareto.h"
#include "compactmind/search/pipeline_space.h"
#include "compactmind/search/report_writer.h"
#include "compactmind/search/study.h"

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

std::vector<std::string> objective_names(const std::string& objective) {
  if (objective == "ppl") return {"ppl"};
  if (objective == "pareto") return {"ppl", "size_ratio"};
  throw std::invalid_argument("--objective '" + objective + "': expected ppl or pareto");
}

// What makes two runs' trials comparable: resuming with any of these changed would mix trials scored
// differently in one study.
nlohmann::json comparable_config(const SearchOptions& options) {
  return {{"model", options.data.model_dir},
          {"data", options.data.data},
          {"seqlen", options.data.seqlen},
          {"eval_windows", options.eval_windows},
          {"calib_data", options.data.calib_data},
          {"calib_samples", options.data.calib_samples},
          {"calib_seqlen", options.data.calib_seqlen},
          {"train_data", options.data.train_data},
          {"target_ratio", options.target_ratio ? nlohmann::json(*options.target_ratio) : nlohmann::json(nullptr)},
          {"strategy", options.strategy},
          {"seed", options.data.seed}};
}

void check_resumed_config(const search::Study& study, const SearchOptions& options, const std::string& path) {
  const nlohmann::json now = comparable_config(options);
  const nlohmann::json& stored = study.record().config;
  for (const auto& [key, value] : now.items()) {
    const auto found = stored.find(key);
    if (found == stored.end() || *found != value)
      throw std::runtime_error("cannot resume study '" + options.study_name + "' in '" + path + "': it was run with " +
                               key + " = " + (found == stored.end() ? std::string("(unset)") : found->dump()) +
                               ", now " + value.dump() +
                               "; its trials would not be comparable — use the same options or another --storage file");
  }
}

std::string trial_result_text(const search::Trial& trial) {
  switch (trial.state) {
    case search::TrialState::kComplete: {
      std::string text = "ppl " + format("%.4f", trial.values.at("ppl")) + ", size ratio " +
                         format("%.4f", trial.values.at("size_ratio"));
      return trial.feasible() ? text : text + " (infeasible: over the target ratio)";
    }
    case search::TrialState::kPruned: return "pruned (" + trial.error + ")";
    case search::TrialState::kFailed: return "failed: " + trial.error;
    case search::TrialState::kRunning: return "running";
  }
  return "?";
}

nlohmann::json trial_summary(const search::Trial& trial) {
  return {{"number", trial.number},
          {"ppl", trial.values.at("ppl")},
          {"size_ratio", trial.values.at("size_ratio")},
          {"params", trial.params},
          {"pipeline", trial.pipeline},
          {"pipeline_text", search::describe_pipeline(trial.pipeline)}};
}

// The objective: execute the sampled pipeline, check the size constraint, evaluate in chunks.
search::TrialOutcome evaluate_trial(const PipelineExecutor& executor, const SearchOptions& options,
                                    const search::Trial& trial, search::TrialReporter& reporter) {
  const Pipeline pipeline = resolve_pipeline(trial.pipeline, executor.registry());
  const ExecutedPipeline executed = executor.execute(pipeline, options.data.seed);
  for (const auto& step : executed.steps) reporter.add_step_time(step.method, step.seconds);

  const int64_t size_bytes = compressed_size_bytes(executor, executed.model);
  const double size_ratio = compressed_size_ratio(executor, size_bytes);
  std::vector<double> constraints;
  if (options.target_ratio) constraints.push_back(size_ratio - *options.target_ratio);  // ≤ 0: satisfied
  reporter.set_constraints(constraints);
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
    const bool prune = reporter.report(static_cast<int>(done), ppl);
    if (prune && feasible && done < total) {
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
  outcome.values = {{"ppl", score.perplexity.ppl},
                    {"size_ratio", size_ratio},
                    {"size_bytes", static_cast<double>(size_bytes)},
                    {"parameters", static_cast<double>(score.parameters)},
                    {"eval_seconds", score.perplexity.seconds}};
  outcome.constraints = constraints;
  outcome.evaluation = evaluation;
  return outcome;
}

}  // namespace

nlohmann::json run_search(SearchOptions options) {
  resolve_data_defaults(options.data, /*default_model=*/true);
  if (options.n_trials < 1) throw std::invalid_argument("--n-trials must be at least 1");
  if (options.eval_windows < 1) throw std::invalid_argument("--eval-windows must be at least 1");
  if (options.eval_chunks < 1) throw std::invalid_argument("--eval-chunks must be at least 1");
  if (options.target_ratio && !(*options.target_ratio > 0.0))
    throw std::invalid_argument("--target-ratio must be positive");
  const std::vector<std::string> objectives = objective_names(options.objective);

  DiscoveryOptions discovery;
  discovery.plugin_dirs.assign(options.data.plugin_dirs.begin(), options.data.plugin_dirs.end());
  const PluginRegistry registry = PluginRegistry::discover(discovery);
  for (const auto& rejection : registry.rejections()) log_warn(rejection.message);
  const search::PipelineSpace pipeline_space(plugin_entries(registry), {options.retrain});
  {
    std::string names;
    for (const auto& plugin : registry.plugins())
      names += (names.empty() ? "" : ", ") + plugin.name + " (" + kind_name(plugin.kind) + ")";
    log_info("search space from " + std::to_string(registry.plugins().size()) + " plugins: " + names + "; " +
             std::to_string(pipeline_space.space().dimensions().size()) + " dimensions");
  }

  search::SamplerOptions sampler_options;
  sampler_options.seed = options.data.seed;
  sampler_options.n_trials = options.n_trials;
  sampler_options.n_startup_trials = options.n_startup_trials;

  std::vector<search::Trial> finished;  // for the progress lines' "best so far"
  search::StudyOptions study_options;
  study_options.name = options.study_name;
  study_options.objectives = objectives;
  study_options.config = comparable_config(options);
  study_options.config["n_trials"] = options.n_trials;
  study_options.config["retrain"] = options.retrain;
  study_options.config["objective"] = options.objective;
  study_options.pruner.enabled = options.prune_trials;
  study_options.to_pipeline = [&pipeline_space](const nlohmann::json& point) { return pipeline_space.to_pipeline(point); };
  study_options.on_trial_start = [&options](const search::Trial& trial) {
    log_info("trial " + std::to_string(trial.number + 1) + "/" + std::to_string(options.n_trials) + ": " +
             search::describe_pipeline(trial.pipeline));
  };
  study_options.on_trial_end = [&options, &finished](const search::Trial& trial) {
    finished.push_back(trial);
    std::string line = "trial " + std::to_string(trial.number + 1) + "/" + std::to_string(options.n_trials) + ": " +
                       trial_result_text(trial) + " in " + format("%.1f s", trial.duration_s);
    if (const auto best = search::best_trial(finished, "ppl"))
      line += "; best so far: trial " + std::to_string(best->number + 1) + ", ppl " +
              format("%.4f", best->values.at("ppl")) + ", size ratio " + format("%.4f", best->values.at("size_ratio"));
    log_info(line);
  };

  std::shared_ptr<search::StudyStorage> storage;
  if (!options.storage.empty()) storage = std::make_shared<search::StudyStorage>(options.storage);
  if (options.resume && !storage) throw std::invalid_argument("--resume needs --storage FILE (the study to continue)");
  search::Study study(pipeline_space.space(), study_options,
                      search::make_sampler(options.strategy, sampler_options), storage, options.resume);
  if (options.resume) {
    check_resumed_config(study, options, options.storage);
    finished = study.trials();
    const auto counts = search::count_trials(finished);
    log_info("resuming study '" + options.study_name + "' from " + options.storage + ": " +
             std::to_string(counts.finished()) + " finished trials" +
             (study.redone_trials().empty() ? std::string()
                                            : ", " + std::to_string(study.redone_trials().size()) +
                                                  " interrupted trial(s) to redo"));
  }

  // Loaded after the study is set up, so that an option or storage error costs no model load.
  const PipelineExecutor executor(options.data, registry);
  const auto start = std::chrono::steady_clock::now();
  const int ran = study.optimize(options.n_trials, [&](const search::Trial& trial, search::TrialReporter& reporter) {
    return evaluate_trial(executor, options, trial, reporter);
  });
  const double search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (study.sampler_exhausted()) log_info("the " + options.strategy + " strategy has no point left to propose");

  const std::vector<search::Trial>& trials = study.trials();
  const search::TrialCounts counts = search::count_trials(trials);
  nlohmann::json summary = {
      {"study", options.study_name},
      {"strategy", options.strategy},
      {"objective", options.objective},
      {"n_trials", options.n_trials},
      {"retrain", options.retrain},
      {"target_ratio", options.target_ratio ? nlohmann::json(*options.target_ratio) : nlohmann::json(nullptr)},
      {"eval_windows", options.eval_windows},
      {"seqlen", options.data.seqlen},
      {"seed", options.data.seed},
      {"threads", executor.threads()},
      {"model", options.data.model_dir},
      {"storage", options.storage.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.storage)},
      {"counts",
       {{"complete", counts.complete},
        {"infeasible", counts.infeasible},
        {"pruned", counts.pruned},
        {"failed", counts.failed},
        {"finished", counts.finished()}}},
      {"trials_run_now", ran},
      {"search_seconds", search_seconds},
      {"seconds_per_trial", ran > 0 ? search_seconds / ran : 0.0},
      {"best", nullptr},
      {"final", nullptr}};
  if (options.objective == "pareto") {
    nlohmann::json front = nlohmann::json::array();
    for (const auto& trial : search::pareto_front(trials)) front.push_back(trial_summary(trial));
    summary["pareto_front"] = front;
  }

  const auto best = search::best_trial(trials, "ppl");
  if (best) {
    summary["best"] = trial_summary(*best);
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
      executed.model.save(options.save_best, save);
      summary["final"]["saved"] = options.save_best;
      log_info("saved the best model to " + options.save_best);
    }
  } else {
    log_warn("no complete feasible trial: nothing to re-evaluate or save");
  }

  if (!options.report_dir.empty()) {
    search::ReportInput report;
    report.study_name = options.study_name;
    report.objectives = objectives;
    report.trials = trials;
    report.target_ratio = options.target_ratio;
    report.summary = summary;
    const auto files = search::write_report(options.report_dir, report);
    summary["report"] = files;
    log_info("report written to " + options.report_dir);
  }
  return summary;
}

}  // namespace compactmind::host
