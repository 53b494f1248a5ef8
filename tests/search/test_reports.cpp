#include "compactmind/search/pareto.h"
#include "compactmind/search/report_writer.h"
#include "compactmind/search/svg_chart.h"
#include "test_helpers.h"
#include "support/temp_dir.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace compactmind;
using namespace compactmind::search;
using compactmind::test::TempDir;

namespace {

Trial complete(int number, double ppl, double size, double target = 0.6) {
  Trial trial;
  trial.number = number;
  trial.state = TrialState::kComplete;
  trial.values = {{"ppl", ppl}, {"size_ratio", size}};
  trial.constraints = {size - target};
  trial.pipeline = nlohmann::json::parse(R"([{"method": "smoothquant", "alpha": 0.5}])");
  trial.params = {{"mode", "single"}};
  trial.duration_s = 1.25;
  return trial;
}

// (ppl, size): 0 (10, 0.5) front; 1 (8, 0.55) front; 2 (12, 0.5) dominated by 0; 3 (6, 0.9) infeasible;
// 4 pruned; 5 failed; 6 (11, 0.3) front.
std::vector<Trial> sample_trials() {
  std::vector<Trial> trials{complete(0, 10, 0.5), complete(1, 8, 0.55), complete(2, 12, 0.5), complete(3, 6, 0.9)};
  Trial pruned;
  pruned.number = 4;
  pruned.state = TrialState::kPruned;
  pruned.intermediates = {{0, 300.0}};
  pruned.error = "pruned at chunk 0";
  Trial failed;
  failed.number = 5;
  failed.state = TrialState::kFailed;
  failed.error = "plugin said \"no\", giving up";
  trials.push_back(pruned);
  trials.push_back(failed);
  trials.push_back(complete(6, 11, 0.3));
  return trials;
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("non-dominated ranks, hypervolume and the Pareto front", "[search][pareto]") {
  CHECK(non_dominated_ranks({{1, 5}, {2, 2}, {5, 1}, {3, 3}, {6, 6}, {2, 2}}) == std::vector<int>{0, 0, 0, 1, 2, 0});
  // Staircase under reference (4, 4): (1,3) → 3·1, (2,1) → 2·2 more.
  CHECK(hypervolume_2d({{1, 3}, {2, 1}}, {4, 4}) == Approx(7.0));
  CHECK(hypervolume_2d({{5, 5}}, {4, 4}) == 0.0);
  CHECK(reference_point({{1, 2}, {3, 0}}) == std::vector<double>{3.3000000000000003, 2.2});

  const auto front = pareto_front(sample_trials());
  REQUIRE(front.size() == 3);
  CHECK(front[0].number == 1);  // sorted by PPL
  CHECK(front[1].number == 0);
  CHECK(front[2].number == 6);
}

TEST_CASE("CSV and JSON reports hold every trial", "[search][report]") {
  ReportInput input;
  input.study_name = "demo";
  input.trials = sample_trials();
  input.target_ratio = 0.6;
  input.summary = {{"strategy", "bayesian"}};
  const std::string csv = trials_csv(input);
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  CHECK(line == "number,state,feasible,pareto,ppl,size_ratio,violation,last_intermediate,duration_s,pipeline,params,error");
  std::vector<std::string> rows;
  while (std::getline(lines, line)) rows.push_back(line);
  REQUIRE(rows.size() == 7);
  CHECK(rows[0] == "0,complete,true,true,10,0.5,0,,1.25,smoothquant(alpha=0.5),\"{\"\"mode\"\":\"\"single\"\"}\",");
  CHECK(rows[2].rfind("2,complete,true,false,12,0.5,", 0) == 0);
  CHECK(rows[3].rfind("3,complete,false,false,6,0.9,0.3", 0) == 0);
  CHECK(rows[4].rfind("4,pruned,true,false,,,0,300,", 0) == 0);
  CHECK(rows[5].find("\"plugin said \"\"no\"\", giving up\"") != std::string::npos);

  const auto json = trials_report_json(input);
  CHECK(json["study"] == "demo");
  CHECK(json["counts"] == nlohmann::json{{"complete", 4}, {"infeasible", 1}, {"pruned", 1}, {"failed", 1}, {"running", 0}});
  CHECK(json["best"]["number"] == 1);
  CHECK(json["pareto_front"] == nlohmann::json{0, 1, 6});
  CHECK(json["trials"].size() == 7);
  CHECK(json["target_ratio"] == 0.6);
}

TEST_CASE("SVG pictures plot the trials, the best-so-far line and the front", "[search][report]") {
  ReportInput input;
  input.study_name = "demo";
  input.trials = sample_trials();
  input.target_ratio = 0.6;
  const std::string history = history_svg(input);
  CHECK(history.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  // 4 feasible + 1 infeasible + 1 pruned points; legends add one circle per marker series (3).
  CHECK(count(history, "<circle") == 6 + 3);
  CHECK(count(history, "<title>trial ") == 6);
  CHECK(history.find("trial number") != std::string::npos);
  CHECK(history.find("best feasible so far") != std::string::npos);
  CHECK(history.find("(1 failed, not shown)") != std::string::npos);
  // PPL from 6 to 300 (pruned): log scale.
  CHECK(history.find("ppl (log scale)") != std::string::npos);
  CHECK(count(history, "<polyline") == 1);

  const std::string pareto = pareto_svg(input);
  // 5 complete trials plotted (3 on the front), 3 legend circles.
  CHECK(count(pareto, "<circle") == 5 + 3);
  CHECK(count(pareto, "<circle cx=") - 3 == 5);
  CHECK(pareto.find("Pareto front") != std::string::npos);
  CHECK(pareto.find("target 0.6") != std::string::npos);
  CHECK(pareto.find("size ratio") != std::string::npos);
  CHECK(pareto.find("(log scale)") == std::string::npos);  // PPL 6..12 is narrow
  std::smatch match;
  CHECK(std::regex_search(pareto, match, std::regex("r=\"6\"")));  // front markers are larger

  input.trials.clear();
  CHECK(history_svg(input).find("no finished trial yet") != std::string::npos);
}

TEST_CASE("write_report writes the five files; HTML embeds the pictures and the table", "[search][report]") {
  TempDir dir("search");
  ReportInput input;
  input.study_name = "demo <&>";
  input.trials = sample_trials();
  const auto paths = write_report(dir.file("report"), input);
  REQUIRE(paths.size() == 5);
  for (const auto& path : paths) CHECK(std::filesystem::file_size(path) > 100);
  std::ifstream file(dir.file("report/report.html"));
  const std::string html((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(count(html, "<svg ") == 2);
  CHECK(count(html, "<tr") == 8);  // header + 7 trials
  CHECK(html.find("demo &lt;&amp;&gt;") != std::string::npos);
  CHECK(html.find("<tr class=\"best\"><td class=\"num\">1 ★</td>") != std::string::npos);
  CHECK(html.find("src=") == std::string::npos);  // self-contained
  CHECK_THROWS_WITH(write_report(dir.file("report/trials.csv/x"), input), Catch::Contains("trials.csv"));
}

TEST_CASE("axis ticks are round numbers", "[search][report]") {
  CHECK(linear_ticks(0, 10, 5) == std::vector<double>{0, 2, 4, 6, 8, 10});
  CHECK(linear_ticks(0.31, 0.74, 4) == std::vector<double>{0.4, 0.5, 0.6, 0.7});
  CHECK(log_ticks(5, 5000) == std::vector<double>{10, 100, 1000});
  CHECK(log_ticks(3, 30) == std::vector<double>{5, 10, 20});
  CHECK(format_number(0.000123456, 3) == "0.000123");
}
