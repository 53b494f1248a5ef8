#include "compactmind/search/report_writer.h"

#include "compactmind/search/pareto.h"
#include "compactmind/search/pipeline_space.h"
#include "compactmind/search/svg_chart.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace compactmind::search {
namespace {

// A trial's value of `name` for plotting: the final value, or for pruned trials the last intermediate
// value of the first objective.
std::optional<double> plotted_value(const Trial& trial, const std::string& name, const std::string& first_objective) {
  if (const auto value = trial.value(name); value && std::isfinite(*value)) return value;
  if (trial.state == TrialState::kPruned && name == first_objective && !trial.intermediates.empty())
    return trial.intermediates.rbegin()->second;
  return std::nullopt;
}

// Log scale when the values span more than a factor of 10 (PPL of broken models explodes).
bool wide_range(const std::vector<double>& values) {
  double low = INFINITY, high = 0;
  for (const double v : values)
    if (v > 0 && std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
  return std::isfinite(low) && high / low > 10.0;
}

std::string tooltip(const Trial& trial) {
  std::ostringstream text;
  text << "trial " << trial.number << " (" << to_string(trial.state) << (trial.feasible() ? "" : ", infeasible") << ")";
  for (const auto& [name, value] : trial.values) text << "\n" << name << " = " << format_number(value, 6);
  if (trial.pipeline.is_array()) text << "\n" << describe_pipeline(trial.pipeline);
  return text.str();
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(std::optional<double> value) {
  if (!value || !std::isfinite(*value)) return "";
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.10g", *value);
  return buffer;
}

std::vector<std::string> value_columns(const ReportInput& input) {
  std::vector<std::string> columns{input.ppl_name, input.size_name};
  for (const auto& objective : input.objectives)
    if (std::find(columns.begin(), columns.end(), objective) == columns.end()) columns.push_back(objective);
  std::set<std::string> others;
  for (const auto& trial : input.trials)
    for (const auto& [name, value] : trial.values)
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) others.insert(name);
  columns.insert(columns.end(), others.begin(), others.end());
  return columns;
}

std::set<int> front_numbers(const ReportInput& input) {
  std::set<int> numbers;
  for (const auto& trial : pareto_front(input.trials, {input.ppl_name, input.size_name})) numbers.insert(trial.number);
  return numbers;
}

std::string escape_html(const std::string& text) { return escape_xml(text); }

const std::string& first_objective(const ReportInput& input) {
  return input.objectives.empty() ? input.ppl_name : input.objectives.front();
}

}  // namespace

std::string trials_csv(const ReportInput& input) {
  const auto columns = value_columns(input);
  const auto front = front_numbers(input);
  std::ostringstream csv;
  csv << "number,state,feasible,pareto";
  for (const auto& column : columns) csv << ',' << csv_field(column);
  csv << ",violation,last_intermediate,duration_s,pipeline,params,error\n";
  for (const auto& trial : input.trials) {
    csv << trial.number << ',' << to_string(trial.state) << ',' << (trial.feasible() ? "true" : "false") << ','
        << (front.count(trial.number) ? "true" : "false");
    for (const auto& column : columns) csv << ',' << csv_number(trial.value(column));
    csv << ',' << csv_number(trial.violation()) << ','
        << csv_number(trial.intermediates.empty() ? std::nullopt : std::optional<double>(trial.intermediates.rbegin()->second))
        << ',' << csv_number(trial.duration_s) << ',' << csv_field(describe_pipeline(trial.pipeline)) << ','
        << csv_field(trial.params.dump()) << ',' << csv_field(trial.error) << '\n';
  }
  return csv.str();
}

nlohmann::json trials_report_json(const ReportInput& input) {
  const auto counts = count_trials(input.trials);
  nlohmann::json trials = nlohmann::json::array();
  for (const auto& trial : input.trials) trials.push_back(to_json(trial));
  nlohmann::json front = nlohmann::json::array();
  for (const int number : front_numbers(input)) front.push_back(number);
  const auto best = best_trial(input.trials, first_objective(input));
  return {{"study", input.study_name},
          {"objectives", input.objectives},
          {"summary", input.summary},
          {"target_ratio", input.target_ratio ? nlohmann::json(*input.target_ratio) : nlohmann::json()},
          {"counts",
           {{"complete", counts.complete},
            {"infeasible", counts.infeasible},
            {"pruned", counts.pruned},
            {"failed", counts.failed},
            {"running", counts.running}}},
          {"best", best ? to_json(*best) : nlohmann::json()},
          {"pareto_front", front},
          {"trials", trials}};
}

std::string history_svg(const ReportInput& input) {
  const std::string& objective = first_objective(input);
  ChartSeries feasible{"complete", "#1f77b4", {}};
  ChartSeries infeasible{"infeasible (constraint violated)", "#ff7f0e", {}};
  infeasible.hollow = true;
  ChartSeries pruned{"pruned (last intermediate value)", "#7f7f7f", {}};
  pruned.hollow = true;
  ChartSeries best{"best feasible so far", "#d62728", {}};
  best.markers = false;
  best.step_line = true;
  std::vector<double> all_values;
  double best_value = INFINITY;
  int failed = 0;
  for (const auto& trial : input.trials) {
    if (trial.state == TrialState::kFailed) ++failed;
    const auto value = plotted_value(trial, objective, objective);
    if (!value || trial.state == TrialState::kFailed || trial.state == TrialState::kRunning) continue;
    all_values.push_back(*value);
    const ChartPoint point{static_cast<double>(trial.number), *value, tooltip(trial)};
    if (trial.state == TrialState::kPruned) {
      pruned.points.push_back(point);
    } else if (!trial.feasible()) {
      infeasible.points.push_back(point);
    } else {
      feasible.points.push_back(point);
      best_value = std::min(best_value, *value);
    }
    if (std::isfinite(best_value)) best.points.push_back({static_cast<double>(trial.number), best_value, ""});
  }
  std::string title = "Optimisation history — " + input.study_name;
  if (failed) title += " (" + std::to_string(failed) + " failed, not shown)";
  SvgChart chart(title, "trial number", objective);
  chart.set_log_y(wide_range(all_values));
  chart.set_note("no finished trial yet");
  for (auto* series : {&feasible, &infeasible, &pruned, &best})
    if (!series->points.empty()) chart.add_series(*series);
  return chart.render();
}

std::string pareto_svg(const ReportInput& input) {
  const auto front = pareto_front(input.trials, {input.ppl_name, input.size_name});
  std::set<int> on_front;
  for (const auto& trial : front) on_front.insert(trial.number);
  ChartSeries feasible{"feasible", "#1f77b4", {}};
  ChartSeries infeasible{"infeasible", "#ff7f0e", {}};
  infeasible.hollow = true;
  ChartSeries pareto{"Pareto front", "#d62728", {}};
  pareto.step_line = true;
  pareto.radius = 6;
  std::vector<double> ppl_values;
  for (const auto& trial : input.trials) {
    if (trial.state != TrialState::kComplete) continue;
    const auto ppl = trial.value(input.ppl_name), size = trial.value(input.size_name);
    if (!ppl || !size || !std::isfinite(*ppl) || !std::isfinite(*size)) continue;
    ppl_values.push_back(*ppl);
    const ChartPoint point{*size, *ppl, tooltip(trial)};
    if (on_front.count(trial.number)) continue;
    (trial.feasible() ? feasible : infeasible).points.push_back(point);
  }
  // The front as a staircase ordered by size.
  std::vector<Trial> by_size = front;
  std::sort(by_size.begin(), by_size.end(),
            [&](const Trial& a, const Trial& b) { return *a.value(input.size_name) < *b.value(input.size_name); });
  for (const auto& trial : by_size)
    pareto.points.push_back({*trial.value(input.size_name), *trial.value(input.ppl_name), tooltip(trial)});
  SvgChart chart("Size vs perplexity — " + input.study_name, "size ratio (compressed / base bytes)", input.ppl_name);
  chart.set_log_y(wide_range(ppl_values));
  chart.set_note("no complete trial with both " + input.ppl_name + " and " + input.size_name);
  for (auto* series : {&feasible, &infeasible, &pareto})
    if (!series->points.empty()) chart.add_series(*series);
  if (input.target_ratio) chart.add_vertical_marker(*input.target_ratio, "target " + format_number(*input.target_ratio));
  return chart.render();
}

std::string report_html(const ReportInput& input) {
  const auto counts = count_trials(input.trials);
  const auto front = front_numbers(input);
  const auto best = best_trial(input.trials, first_objective(input));
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>CompactMind study "
       << escape_html(input.study_name) << "</title>\n<style>\n"
       << "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:13px}"
       << "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f0f0f0}"
       << "tr.best{background:#fff3c4}td.num{text-align:right;font-variant-numeric:tabular-nums}"
       << ".charts{display:flex;flex-wrap:wrap;gap:16px}\n</style>\n</head>\n<body>\n"
       << "<h1>Study " << escape_html(input.study_name) << "</h1>\n<ul>\n"
       << "<li>objectives (minimised): ";
  for (size_t i = 0; i < input.objectives.size(); ++i) html << (i ? ", " : "") << escape_html(input.objectives[i]);
  html << "</li>\n<li>trials: " << counts.complete << " complete, " << counts.infeasible << " infeasible, "
       << counts.pruned << " pruned, " << counts.failed << " failed";
  if (counts.running) html << ", " << counts.running << " running";
  html << "</li>\n";
  if (input.target_ratio) html << "<li>target size ratio: ≤ " << format_number(*input.target_ratio) << "</li>\n";
  if (best)
    html << "<li>best feasible trial: #" << best->number << ", " << escape_html(first_objective(input)) << " = "
         << format_number(*best->value(first_objective(input)), 6) << " — "
         << escape_html(describe_pipeline(best->pipeline)) << "</li>\n";
  for (const auto& [key, value] : input.summary.items())
    html << "<li>" << escape_html(key) << ": " << escape_html(value.is_string() ? value.get<std::string>() : value.dump())
         << "</li>\n";
  html << "</ul>\n<div class=\"charts\">\n" << history_svg(input) << pareto_svg(input) << "</div>\n"
       << "<h2>Trials</h2>\n<p>★ = on the Pareto front of (" << escape_html(input.ppl_name) << ", "
       << escape_html(input.size_name) << "); the highlighted row is the best feasible trial.</p>\n"
       << "<table>\n<tr><th>#</th><th>state</th><th>" << escape_html(input.ppl_name) << "</th><th>"
       << escape_html(input.size_name) << "</th><th>pipeline</th><th>seconds</th><th>note</th></tr>\n";
  for (const auto& trial : input.trials) {
    const bool is_best = best && best->number == trial.number;
    html << "<tr" << (is_best ? " class=\"best\"" : "") << "><td class=\"num\">" << trial.number
         << (front.count(trial.number) ? " ★" : "") << "</td><td>" << to_string(trial.state)
         << (trial.state == TrialState::kComplete && !trial.feasible() ? " (infeasible)" : "") << "</td><td class=\"num\">"
         << csv_number(trial.value(input.ppl_name)) << "</td><td class=\"num\">" << csv_number(trial.value(input.size_name))
         << "</td><td>" << escape_html(describe_pipeline(trial.pipeline)) << "</td><td class=\"num\">"
         << format_number(trial.duration_s, 3) << "</td><td>" << escape_html(trial.error) << "</td></tr>\n";
  }
  html << "</table>\n</body>\n</html>\n";
  return html.str();
}

std::vector<std::string> write_report(const std::string& directory, const ReportInput& input) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw std::runtime_error("cannot create report folder '" + directory + "': " + error.message());
  const std::vector<std::pair<std::string, std::string>> files = {
      {"trials.json", trials_report_json(input).dump(2) + "\n"},
      {"trials.csv", trials_csv(input)},
      {"history.svg", history_svg(input)},
      {"pareto.svg", pareto_svg(input)},
      {"report.html", report_html(input)}};
  // All five are written to temporary names first and renamed only when every one is complete: a
  // full disk leaves the earlier report as it was, never a truncated file.
  std::vector<std::pair<std::string, std::string>> written;  // (temporary, final)
  auto discard = [&written] {
    std::error_code ignored;
    for (const auto& file : written) std::filesystem::remove(file.first, ignored);
  };
  for (const auto& [name, content] : files) {
    const std::string path = (std::filesystem::path(directory) / name).string();
    const std::string partial = path + ".partial-" + std::to_string(::getpid());
    written.emplace_back(partial, path);
    std::ofstream out(partial, std::ios::binary);
    out << content;
    out.close();  // the data reaches the file system here: check after closing
    if (!out) {
      const std::string reason = std::strerror(errno);
      discard();
      throw std::runtime_error("cannot write report file '" + path + "': " + reason + " (disk full?)");
    }
  }
  std::vector<std::string> paths;
  for (const auto& [partial, path] : written) {
    std::filesystem::rename(partial, path, error);
    if (error) {
      discard();
      throw std::runtime_error("cannot write report file '" + path + "': " + error.message());
    }
    paths.push_back(path);
  }
  return paths;
}

}  // namespace compactmind::search
