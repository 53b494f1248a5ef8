#include "compactmind/search/search_session.h"

#include "compactmind/search/pareto.h"
#include "compactmind/search/svg_chart.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace compactmind::search {
namespace {

void check_settings(const SearchSettings& settings) {
  if (settings.n_trials < 1) throw std::invalid_argument("search: --n-trials must be at least 1");
  if (settings.objective != "ppl" && settings.objective != "pareto")
    throw std::invalid_argument("search: unknown objective '" + settings.objective + "' (expected ppl or pareto)");
  if (settings.target_ratio && !(*settings.target_ratio > 0.0))
    throw std::invalid_argument("search: --target-ratio must be positive");
  if (settings.resume && settings.storage.empty())
    throw std::invalid_argument("search: --resume needs the study file (--storage FILE)");
}

// The options that decide what a study's trials mean; a resumed study must keep them.
nlohmann::json identity(const SearchSettings& settings) {
  return {{"strategy", settings.strategy},
          {"seed", settings.seed},
          {"retrain", settings.retrain},
          {"target_ratio", settings.target_ratio ? nlohmann::json(*settings.target_ratio) : nlohmann::json()},
          {"objective", settings.objective}};
}

std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(decimals);
  out << value;
  return out.str();
}

}  // namespace

SearchSession::SearchSession(std::vector<PluginEntry> plugins, SearchSettings settings)
    : settings_((check_settings(settings), std::move(settings))),
      pipeline_space_(std::move(plugins), PipelineSpaceOptions{settings_.retrain}) {
  StudyOptions options;
  options.name = settings_.study_name;
  options.objectives = settings_.objective == "pareto" ? std::vector<std::string>{kPpl, kSizeRatio}
                                                       : std::vector<std::string>{kPpl};
  options.config = identity(settings_);
  options.config["n_trials"] = settings_.n_trials;
  options.config["extra"] = settings_.extra;
  options.pruner = settings_.pruner;
  options.on_trial_end = [this](const Trial& trial) {
    if (on_trial_end_) on_trial_end_(trial);
  };
  options.to_pipeline = [this](const nlohmann::json& point) { return pipeline_space_.to_pipeline(point); };
  SamplerOptions sampler;
  sampler.seed = settings_.seed;
  sampler.n_trials = settings_.n_trials;
  sampler.n_startup_trials = settings_.n_startup_trials;
  sampler.grid_points = settings_.grid_points;
  auto storage = settings_.storage.empty() ? nullptr : std::make_shared<StudyStorage>(settings_.storage);
  study_ = std::make_unique<Study>(pipeline_space_.space(), options, make_sampler(settings_.strategy, sampler),
                                   storage, settings_.resume);
  if (settings_.resume) {
    const nlohmann::json stored = study_->record().config;
    const nlohmann::json wanted = identity(settings_);
    for (const auto& [key, value] : wanted.items()) {
      const nlohmann::json before = stored.value(key, nlohmann::json());
      if (before != value)
        throw std::runtime_error("study '" + settings_.study_name + "' in '" + settings_.storage + "' was run with " +
                                 key + " = " + before.dump() + ", not " + value.dump() +
                                 "; resume with the same options, or start a new study file");
    }
  }
}

int SearchSession::run(const Objective& objective, const std::function<void(const Trial&)>& on_trial_end) {
  on_trial_end_ = on_trial_end;
  const std::optional<double> target = settings_.target_ratio;
  return study_->optimize(settings_.n_trials, [&](const Trial& trial, TrialReporter& reporter) {
    TrialOutcome outcome;
    try {
      outcome = objective(trial, reporter);
    } catch (const TrialPruned&) {
      // The reporter writes into `trial`, so a size given early is visible here.
      if (const auto size = trial.value(kSizeRatio); target && size) reporter.set_constraints({*size - *target});
      throw;
    }
    const auto size = outcome.values.find(kSizeRatio);
    if (size == outcome.values.end()) throw std::runtime_error("the evaluation returned no size_ratio");
    if (target) outcome.constraints = {size->second - *target};
    return outcome;
  });
}

std::optional<Trial> SearchSession::best() const { return best_trial(study_->trials(), kPpl); }

std::vector<Trial> SearchSession::pareto() const { return pareto_front(study_->trials(), {kPpl, kSizeRatio}); }

std::string SearchSession::progress_line(const Trial& trial) const {
  std::ostringstream line;
  line << "trial " << trial.number + 1 << "/" << settings_.n_trials << " ";
  const auto ppl = trial.value(kPpl), size = trial.value(kSizeRatio);
  switch (trial.state) {
    case TrialState::kComplete:
      line << (trial.feasible() ? "complete" : "infeasible");
      break;
    case TrialState::kPruned:
      line << "pruned";
      if (!trial.intermediates.empty())
        line << " at chunk " << trial.intermediates.rbegin()->first << " (ppl "
             << format_number(trial.intermediates.rbegin()->second, 5) << ")";
      break;
    case TrialState::kFailed: line << "failed: " << trial.error; break;
    case TrialState::kRunning: line << "running"; break;
  }
  if (trial.state == TrialState::kComplete && ppl) line << "  ppl " << format_number(*ppl, 5);
  if (size) {
    line << "  size " << fixed(*size, 3);
    if (settings_.target_ratio && *size > *settings_.target_ratio) line << " > " << format_number(*settings_.target_ratio);
  }
  if (const auto best_so_far = best())
    line << "  best " << format_number(*best_so_far->value(kPpl), 5) << " (#" << best_so_far->number + 1 << ")";
  line << "  " << fixed(trial.duration_s, 1) << " s  " << describe_pipeline(trial.pipeline);
  return line.str();
}

nlohmann::json SearchSession::summary_json() const {
  const auto counts = count_trials(study_->trials());
  nlohmann::json out = {{"study", settings_.study_name},
                        {"strategy", settings_.strategy},
                        {"seed", settings_.seed},
                        {"n_trials", settings_.n_trials},
                        {"target_ratio", settings_.target_ratio ? nlohmann::json(*settings_.target_ratio) : nlohmann::json()},
                        {"counts",
                         {{"complete", counts.complete},
                          {"pruned", counts.pruned},
                          {"failed", counts.failed},
                          {"infeasible", counts.infeasible}}},
                        {"sampler_exhausted", study_->sampler_exhausted()}};
  auto describe = [](const Trial& trial) {
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [name, value] : trial.values) values[name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
    return nlohmann::json{{"number", trial.number},
                          {"ppl", values.value(kPpl, nlohmann::json())},
                          {"size_ratio", values.value(kSizeRatio, nlohmann::json())},
                          {"values", values},
                          {"params", trial.params},
                          {"pipeline", trial.pipeline},
                          {"evaluation", trial.evaluation},
                          {"seconds", trial.duration_s}};
  };
  const auto best_trial = best();
  out["best"] = best_trial ? describe(*best_trial) : nlohmann::json();
  nlohmann::json front = nlohmann::json::array();
  for (const auto& trial : pareto()) front.push_back(describe(trial));
  out["pareto_front"] = front;
  return out;
}

ReportInput SearchSession::report_input() const {
  ReportInput input;
  input.study_name = settings_.study_name;
  input.objectives = study_->options().objectives;
  input.trials = study_->trials();
  input.target_ratio = settings_.target_ratio;
  input.summary = {{"strategy", settings_.strategy}, {"seed", settings_.seed}, {"n_trials", settings_.n_trials},
                   {"retrain", settings_.retrain}};
  for (const auto& [key, value] : settings_.extra.items()) input.summary[key] = value;
  return input;
}

}  // namespace compactmind::search
