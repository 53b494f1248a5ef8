#include "compactmind/search/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace compactmind::search {

std::string escape_xml(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double value, int significant) {
  if (!std::isfinite(value)) return std::isnan(value) ? "NaN" : (value > 0 ? "inf" : "-inf");
  if (std::fabs(value) < 1e-12) return "0";
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
  return buffer;
}

std::vector<double> linear_ticks(double low, double high, int target) {
  if (!(high > low)) return {low};
  const double raw = (high - low) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  const double step = (normalised < 1.5 ? 1.0 : normalised < 3.0 ? 2.0 : normalised < 7.0 ? 5.0 : 10.0) * magnitude;
  std::vector<double> ticks;
  for (double tick = std::ceil(low / step - 1e-9) * step; tick <= high + step * 1e-9; tick += step)
    ticks.push_back(std::fabs(tick) < step * 1e-9 ? 0.0 : tick);
  return ticks;
}

std::vector<double> log_ticks(double low, double high) {
  std::vector<double> ticks;
  if (!(low > 0) || !(high >= low)) return ticks;
  const int first = static_cast<int>(std::floor(std::log10(low)));
  const int last = static_cast<int>(std::ceil(std::log10(high)));
  // Decades alone when the axis spans several; 1-2-5 inside them when it spans few.
  const bool dense = last - first <= 2;
  for (int decade = first; decade <= last; ++decade)
    for (const double mantissa : dense ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      const double tick = mantissa * std::pow(10.0, decade);
      if (tick >= low * (1 - 1e-9) && tick <= high * (1 + 1e-9)) ticks.push_back(tick);
    }
  if (ticks.size() < 2) {  // a narrow range: fall back to linear ticks on the log axis
    ticks.clear();
    for (const double tick : linear_ticks(low, high, 4))
      if (tick > 0) ticks.push_back(tick);
  }
  return ticks;
}

SvgChart::SvgChart(std::string title, std::string x_label, std::string y_label)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {}

std::string SvgChart::render(int width, int height) const {
  const double left = 84, right = width - 24, top = 48, bottom = height - 62;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << ' ' << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
      << escape_xml(title_) << "</text>\n";

  double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
  for (const auto& series : series_)
    for (const auto& p : series.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y) || (log_y_ && p.y <= 0)) continue;
      x_min = std::min(x_min, p.x), x_max = std::max(x_max, p.x);
      y_min = std::min(y_min, p.y), y_max = std::max(y_max, p.y);
    }
  for (const auto& marker : markers_) x_min = std::min(x_min, marker.x), x_max = std::max(x_max, marker.x);
  if (!std::isfinite(y_min)) {
    svg << "<text x=\"" << width / 2 << "\" y=\"" << height / 2 << "\" text-anchor=\"middle\" fill=\"#666\">"
        << escape_xml(note_.empty() ? "nothing to plot" : note_) << "</text>\n</svg>\n";
    return svg.str();
  }
  // Padding so points never sit on the frame.
  auto pad = [](double& low, double& high, double fraction) {
    const double span = high > low ? high - low : std::max(std::fabs(low), 1.0) * 0.1;
    low -= span * fraction;
    high += span * fraction;
  };
  pad(x_min, x_max, 0.04);
  double y_low = log_y_ ? std::log10(y_min) : y_min, y_high = log_y_ ? std::log10(y_max) : y_max;
  pad(y_low, y_high, 0.06);
  auto sx = [&](double x) { return left + (x - x_min) / (x_max - x_min) * (right - left); };
  auto sy = [&](double y) {
    const double v = log_y_ ? std::log10(y) : y;
    return bottom - (v - y_low) / (y_high - y_low) * (bottom - top);
  };

  // Grid, ticks and labels.
  svg << "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n";
  const auto x_ticks = linear_ticks(x_min, x_max, 8);
  const auto y_ticks = log_y_ ? log_ticks(std::pow(10.0, y_low), std::pow(10.0, y_high)) : linear_ticks(y_low, y_high, 6);
  for (const double t : x_ticks) svg << "<line x1=\"" << sx(t) << "\" y1=\"" << top << "\" x2=\"" << sx(t) << "\" y2=\"" << bottom << "\"/>\n";
  for (const double t : y_ticks) svg << "<line x1=\"" << left << "\" y1=\"" << sy(t) << "\" x2=\"" << right << "\" y2=\"" << sy(t) << "\"/>\n";
  svg << "</g>\n<g fill=\"#333\">\n";
  for (const double t : x_ticks)
    svg << "<text x=\"" << sx(t) << "\" y=\"" << bottom + 18 << "\" text-anchor=\"middle\">" << format_number(t) << "</text>\n";
  for (const double t : y_ticks)
    svg << "<text x=\"" << left - 8 << "\" y=\"" << sy(t) + 4 << "\" text-anchor=\"end\">" << format_number(t) << "</text>\n";
  svg << "</g>\n"
      << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << right - left << "\" height=\"" << bottom - top
      << "\" fill=\"none\" stroke=\"#555\"/>\n"
      << "<text x=\"" << (left + right) / 2 << "\" y=\"" << height - 22 << "\" text-anchor=\"middle\">"
      << escape_xml(x_label_) << "</text>\n"
      << "<text transform=\"translate(20," << (top + bottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
      << escape_xml(y_label_ + (log_y_ ? " (log scale)" : "")) << "</text>\n";

  for (const auto& marker : markers_)
    svg << "<line x1=\"" << sx(marker.x) << "\" y1=\"" << top << "\" x2=\"" << sx(marker.x) << "\" y2=\"" << bottom
        << "\" stroke=\"#2ca02c\" stroke-dasharray=\"6 4\" stroke-width=\"1.5\"/>\n<text x=\"" << sx(marker.x) + 4
        << "\" y=\"" << bottom - 8 << "\" fill=\"#2ca02c\">" << escape_xml(marker.label) << "</text>\n";

  for (const auto& series : series_) {
    std::vector<const ChartPoint*> drawable;
    for (const auto& p : series.points)
      if (std::isfinite(p.x) && std::isfinite(p.y) && (!log_y_ || p.y > 0)) drawable.push_back(&p);
    if ((series.line || series.step_line) && drawable.size() > 1) {
      svg << "<polyline fill=\"none\" stroke=\"" << series.color << "\" stroke-width=\"2\" points=\"";
      for (size_t i = 0; i < drawable.size(); ++i) {
        if (series.step_line && i > 0) svg << sx(drawable[i]->x) << ',' << sy(drawable[i - 1]->y) << ' ';
        svg << sx(drawable[i]->x) << ',' << sy(drawable[i]->y) << ' ';
      }
      svg << "\"/>\n";
    }
    if (!series.markers) continue;
    svg << "<g class=\"series\" data-label=\"" << escape_xml(series.label) << "\">\n";
    for (const auto* p : drawable) {
      svg << "<circle cx=\"" << sx(p->x) << "\" cy=\"" << sy(p->y) << "\" r=\"" << series.radius << "\" "
          << (series.hollow ? "fill=\"white\" stroke=\"" + series.color + "\" stroke-width=\"1.5\""
                            : "fill=\"" + series.color + "\" fill-opacity=\"0.85\"")
          << "><title>" << escape_xml(p->tooltip) << "</title></circle>\n";
    }
    svg << "</g>\n";
  }

  // Legend in the top right corner of the plot.
  std::vector<const ChartSeries*> labelled;
  for (const auto& series : series_)
    if (!series.label.empty()) labelled.push_back(&series);
  if (!labelled.empty()) {
    const double box_width = 230, box_height = 8 + 18.0 * labelled.size();
    const double bx = right - box_width - 8, by = top + 8;
    svg << "<rect x=\"" << bx << "\" y=\"" << by << "\" width=\"" << box_width << "\" height=\"" << box_height
        << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n";
    for (size_t i = 0; i < labelled.size(); ++i) {
      const auto& series = *labelled[i];
      const double y = by + 16 + 18.0 * i;
      if (series.markers)
        svg << "<circle cx=\"" << bx + 14 << "\" cy=\"" << y - 4 << "\" r=\"4\" "
            << (series.hollow ? "fill=\"white\" stroke=\"" + series.color + "\"" : "fill=\"" + series.color + "\"") << "/>\n";
      else
        svg << "<line x1=\"" << bx + 6 << "\" y1=\"" << y - 4 << "\" x2=\"" << bx + 22 << "\" y2=\"" << y - 4
            << "\" stroke=\"" << series.color << "\" stroke-width=\"2\"/>\n";
      svg << "<text x=\"" << bx + 30 << "\" y=\"" << y << "\">" << escape_xml(series.label) << "</text>\n";
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace compactmind::search
