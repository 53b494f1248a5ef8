// A small SVG chart: axes with "nice" ticks (1-2-5 steps, or decades on a log axis), labels, scatter
// series, polylines, vertical markers and a legend. Enough for the study report, nothing more.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace compactmind::search {

struct ChartPoint {
  double x = 0.0, y = 0.0;
  std::string tooltip;  // <title> shown on hover
};

struct ChartSeries {
  std::string label;
  std::string color = "#1f77b4";
  std::vector<ChartPoint> points;
  bool markers = true;   // circles at the points
  bool hollow = false;   // outlined circles
  bool line = false;     // join the points in order
  bool step_line = false;  // join as a staircase (best-so-far)
  double radius = 4.0;
};

class SvgChart {
 public:
  SvgChart(std::string title, std::string x_label, std::string y_label);
  void set_log_y(bool log_y) { log_y_ = log_y; }
  void add_series(ChartSeries series) { series_.push_back(std::move(series)); }
  void add_vertical_marker(double x, std::string label) { markers_.push_back({x, std::move(label)}); }
  void set_note(std::string note) { note_ = std::move(note); }  // shown when there is nothing to plot
  std::string render(int width = 760, int height = 460) const;

 private:
  struct Marker { double x; std::string label; };
  std::string title_, x_label_, y_label_, note_;
  bool log_y_ = false;
  std::vector<ChartSeries> series_;
  std::vector<Marker> markers_;
};

// Tick positions covering [low, high]: ~`target` values on 1-2-5 steps (linear) or decades (log).
std::vector<double> linear_ticks(double low, double high, int target = 6);
std::vector<double> log_ticks(double low, double high);
std::string format_number(double value, int significant = 4);
std::string escape_xml(const std::string& text);

}  // namespace compactmind::search
