#include "compactmind/search/trial.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <stdexcept>

namespace compactmind::search {

std::string to_string(TrialState state) {
  switch (state) {
    case TrialState::kRunning: return "running";
    case TrialState::kComplete: return "complete";
    case TrialState::kPruned: return "pruned";
    case TrialState::kFailed: return "failed";
  }
  return "?";
}

TrialState parse_trial_state(const std::string& text) {
  if (text == "running") return TrialState::kRunning;
  if (text == "complete") return TrialState::kComplete;
  if (text == "pruned") return TrialState::kPruned;
  if (text == "failed") return TrialState::kFailed;
  throw std::invalid_argument("unknown trial state '" + text + "' (expected running, complete, pruned or failed)");
}

double Trial::violation() const {
  double total = 0.0;
  for (const double constraint : constraints)
    if (constraint > 0 || std::isnan(constraint)) total += std::isnan(constraint) ? INFINITY : constraint;
  return total;
}

std::optional<double> Trial::value(const std::string& name) const {
  const auto found = values.find(name);
  if (found == values.end()) return std::nullopt;
  return found->second;
}

namespace {

// JSON has no NaN/inf: store them as null and read null back as NaN.
nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}
double number_from(const nlohmann::json& value) {
  return value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

nlohmann::json to_json(const Trial& trial) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [name, value] : trial.values) values[name] = number_or_null(value);
  nlohmann::json constraints = nlohmann::json::array();
  for (const double constraint : trial.constraints) constraints.push_back(number_or_null(constraint));
  nlohmann::json intermediates = nlohmann::json::object();
  for (const auto& [step, value] : trial.intermediates) intermediates[std::to_string(step)] = number_or_null(value);
  nlohmann::json step_times = nlohmann::json::array();
  for (const auto& step : trial.step_times) step_times.push_back({{"method", step.method}, {"seconds", step.seconds}});
  return {{"number", trial.number},
          {"state", to_string(trial.state)},
          {"feasible", trial.feasible()},
          {"params", trial.params},
          {"pipeline", trial.pipeline},
          {"values", values},
          {"constraints", constraints},
          {"intermediates", intermediates},
          {"evaluation", trial.evaluation},
          {"step_times", step_times},
          {"error", trial.error},
          {"started_at", trial.started_at},
          {"finished_at", trial.finished_at},
          {"duration_s", trial.duration_s}};
}

Trial trial_from_json(const nlohmann::json& json) {
  try {
    Trial trial;
    trial.number = json.at("number").get<int>();
    trial.state = parse_trial_state(json.at("state").get<std::string>());
    trial.params = json.value("params", nlohmann::json::object());
    trial.pipeline = json.value("pipeline", nlohmann::json());
    // Named copies: iterating items() of a temporary would dangle.
    const nlohmann::json values = json.value("values", nlohmann::json::object());
    const nlohmann::json constraints = json.value("constraints", nlohmann::json::array());
    const nlohmann::json intermediates = json.value("intermediates", nlohmann::json::object());
    const nlohmann::json step_times = json.value("step_times", nlohmann::json::array());
    for (const auto& [name, value] : values.items()) trial.values[name] = number_from(value);
    for (const auto& constraint : constraints) trial.constraints.push_back(number_from(constraint));
    for (const auto& [step, value] : intermediates.items()) trial.intermediates[std::stoi(step)] = number_from(value);
    trial.evaluation = json.value("evaluation", nlohmann::json());
    for (const auto& step : step_times)
      trial.step_times.push_back({step.at("method").get<std::string>(), step.at("seconds").get<double>()});
    trial.error = json.value("error", "");
    trial.started_at = json.value("started_at", "");
    trial.finished_at = json.value("finished_at", "");
    trial.duration_s = json.value("duration_s", 0.0);
    return trial;
  } catch (const nlohmann::json::exception& error) {
    throw std::invalid_argument(std::string("malformed trial record: ") + error.what());
  } catch (const std::logic_error& error) {  // stoi
    throw std::invalid_argument(std::string("malformed trial record: ") + error.what());
  }
}

std::optional<Trial> best_trial(const std::vector<Trial>& trials, const std::string& objective) {
  const Trial* best = nullptr;
  for (const auto& trial : trials) {
    if (trial.state != TrialState::kComplete || !trial.feasible()) continue;
    const auto value = trial.value(objective);
    if (!value || std::isnan(*value)) continue;
    if (!best || *value < *best->value(objective)) best = &trial;
  }
  if (!best) return std::nullopt;
  return *best;
}

TrialCounts count_trials(const std::vector<Trial>& trials) {
  TrialCounts counts;
  for (const auto& trial : trials) {
    switch (trial.state) {
      case TrialState::kComplete: (trial.feasible() ? counts.complete : counts.infeasible)++; break;
      case TrialState::kPruned: counts.pruned++; break;
      case TrialState::kFailed: counts.failed++; break;
      case TrialState::kRunning: counts.running++; break;
    }
  }
  return counts;
}

std::string utc_now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &parts);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buffer, static_cast<int>(millis));
  return out;
}

}  // namespace compactmind::search
