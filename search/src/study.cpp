#include "compactmind/search/study.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace compactmind::search {

bool TrialReporter::report(int step, double intermediate_value) {
  trial_.intermediates[step] = intermediate_value;
  return pruner_.should_prune(trial_, step, history_);
}

void TrialReporter::add_step_time(const std::string& method, double seconds) {
  trial_.step_times.push_back({method, seconds});
}

void TrialReporter::set_value(const std::string& name, double value) { trial_.values[name] = value; }

void TrialReporter::set_constraints(std::vector<double> constraints) { trial_.constraints = std::move(constraints); }

void TrialReporter::set_evaluation(nlohmann::json evaluation) { trial_.evaluation = std::move(evaluation); }

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

}  // namespace

Study::Study(SearchSpace space, StudyOptions options, std::unique_ptr<Sampler> sampler,
             std::shared_ptr<StudyStorage> storage, bool resume)
    : space_(std::move(space)),
      options_(std::move(options)),
      sampler_(std::move(sampler)),
      storage_(std::move(storage)),
      pruner_(options_.pruner) {
  if (!sampler_) throw std::invalid_argument("study '" + options_.name + "': no sampler");
  if (options_.objectives.empty()) throw std::invalid_argument("study '" + options_.name + "': no objective");
  record_ = {options_.name, options_.objectives, space_.fingerprint(), space_.to_json(), options_.config, ""};
  if (!storage_) {
    if (resume) throw std::invalid_argument("study '" + options_.name + "': resuming needs a study file (--storage)");
    return;
  }
  const std::string& path = storage_->path();
  const auto existing = storage_->find_study(options_.name);
  if (!resume) {
    if (existing) {
      const auto trials = storage_->load_trials(options_.name);
      throw std::runtime_error("study file '" + path + "' already holds study '" + options_.name + "' (" +
                               std::to_string(trials.size()) +
                               " trials); pass --resume to continue it, or give another --storage file");
    }
    record_.created_at = utc_now_iso8601();
    storage_->create_study(record_);
    return;
  }
  if (!existing)
    throw std::runtime_error("study file '" + path + "' holds no study named '" + options_.name +
                             "' to resume (it holds: " + join(storage_->study_names()) + ")");
  if (existing->space_fingerprint != record_.space_fingerprint)
    throw std::runtime_error("study '" + options_.name + "' in '" + path +
                             "' was created for a different search space (fingerprint " + existing->space_fingerprint +
                             ", now " + record_.space_fingerprint +
                             "): the plugins, their declared spaces or the search options changed; start a new study "
                             "with another --storage file");
  if (existing->objectives != record_.objectives)
    throw std::runtime_error("study '" + options_.name + "' in '" + path + "' optimises {" + join(existing->objectives) +
                             "}, not {" + join(record_.objectives) + "}; start a new study with another --storage file");
  record_ = *existing;
  redone_ = storage_->remove_running_trials(options_.name);
  trials_ = storage_->load_trials(options_.name);
}

int Study::optimize(int n_trials, const Objective& objective) {
  int ran = 0;
  while (count_trials(trials_).finished() < n_trials) {
    const int number = trials_.empty() ? 0 : trials_.back().number + 1;
    const SamplingContext context{space_, trials_, number, options_.objectives};
    const auto point = sampler_->sample(context);
    if (!point) {
      exhausted_ = true;
      break;
    }
    trials_.push_back(run_trial(number, *point, objective));
    ++ran;
  }
  return ran;
}

Trial Study::run_trial(int number, const nlohmann::json& point, const Objective& objective) {
  Trial trial;
  trial.number = number;
  trial.params = point;
  trial.started_at = utc_now_iso8601();
  const auto start = std::chrono::steady_clock::now();
  try {
    if (options_.to_pipeline) trial.pipeline = options_.to_pipeline(point);
  } catch (const std::exception& error) {
    trial.state = TrialState::kFailed;
    trial.error = std::string("cannot build the pipeline: ") + error.what();
  }
  if (storage_) storage_->write_trial(options_.name, trial);  // visible as running; redone if we die
  if (options_.on_trial_start) options_.on_trial_start(trial);

  if (trial.state == TrialState::kRunning) {
    TrialReporter reporter(trial, pruner_, trials_);
    try {
      TrialOutcome outcome = objective(trial, reporter);
      for (auto& [name, value] : outcome.values) trial.values[name] = value;
      if (!outcome.constraints.empty()) trial.constraints = std::move(outcome.constraints);
      if (!outcome.evaluation.is_null()) trial.evaluation = std::move(outcome.evaluation);
      trial.state = TrialState::kComplete;
      for (const auto& name : options_.objectives) {
        const auto value = trial.value(name);
        if (!value) {
          trial.state = TrialState::kFailed;
          trial.error = "the objective returned no '" + name + "' value";
          break;
        }
        if (!std::isfinite(*value)) {
          trial.state = TrialState::kFailed;
          trial.error = "objective '" + name + "' is " + (std::isnan(*value) ? "NaN" : "infinite");
          break;
        }
      }
    } catch (const TrialPruned& pruned) {
      trial.state = TrialState::kPruned;
      trial.error = pruned.what();
    } catch (const std::exception& error) {
      trial.state = TrialState::kFailed;
      trial.error = error.what();
    } catch (...) {
      trial.state = TrialState::kFailed;
      trial.error = "unknown exception";
    }
  }
  trial.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  trial.finished_at = utc_now_iso8601();
  if (storage_) storage_->write_trial(options_.name, trial);
  if (options_.on_trial_end) options_.on_trial_end(trial);
  return trial;
}

}  // namespace compactmind::search
