// Study reports a person reads: trials.json, trials.csv, history.svg (trial number vs the first
// objective with the best-so-far line), pareto.svg (size ratio vs PPL, Pareto front highlighted,
// target ratio marked) and report.html (both pictures inline and a table of trials; self-contained).
#pragma once

#include "compactmind/search/trial.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace compactmind::search {

struct ReportInput {
  std::string study_name;
  std::vector<std::string> objectives = {"ppl"};  // the first is plotted in the history
  std::vector<Trial> trials;
  std::optional<double> target_ratio;  // drawn on the scatter when set
  nlohmann::json summary = nlohmann::json::object();  // extra facts for the JSON/HTML (strategy, best, ...)
  std::string ppl_name = "ppl";
  std::string size_name = "size_ratio";
};

std::string trials_csv(const ReportInput& input);
nlohmann::json trials_report_json(const ReportInput& input);
std::string history_svg(const ReportInput& input);
std::string pareto_svg(const ReportInput& input);
std::string report_html(const ReportInput& input);

// Writes the five files into `directory` (created if needed); returns their paths.
// Throws std::runtime_error naming a file that cannot be written.
std::vector<std::string> write_report(const std::string& directory, const ReportInput& input);

}  // namespace compactmind::search
