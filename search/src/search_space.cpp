#include "compactmind/search/search_space.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace compactmind::search {

bool value_fits(const ParameterSpec& spec, const nlohmann::json& value) {
  switch (spec.type) {
    case ParameterType::kBool: return value.is_boolean();
    case ParameterType::kCategorical:
      if (!value.is_string()) return false;
      for (const auto& choice : spec.choices)
        if (choice == value.get<std::string>()) return true;
      return false;
    case ParameterType::kInt:
      if (!value.is_number_integer()) return false;
      [[fallthrough]];
    case ParameterType::kFloat: {
      if (!value.is_number()) return false;
      const double number = value.get<double>();
      if (!std::isfinite(number) || number < spec.low || number > spec.high) return false;
      if (spec.step > 0) {
        const double index = (number - spec.low) / spec.step;
        // Tolerance for the rounding of low + k·step in binary floating point.
        if (std::fabs(index - std::round(index)) > 1e-6) return false;
      }
      return true;
    }
  }
  return false;
}

nlohmann::json spec_to_json(const ParameterSpec& spec) {
  nlohmann::json out = {{"name", spec.name}, {"type", to_string(spec.type)}, {"default", spec.default_value}};
  if (spec.type == ParameterType::kFloat || spec.type == ParameterType::kInt) {
    out["low"] = spec.low;
    out["high"] = spec.high;
    out["log"] = spec.log_scale;
    out["step"] = spec.step;
  }
  if (spec.type == ParameterType::kCategorical) out["choices"] = spec.choices;
  return out;
}

void SearchSpace::add(Dimension dimension) {
  if (dimension.name.empty()) throw std::invalid_argument("search space: a dimension needs a name");
  if (find(dimension.name))
    throw std::invalid_argument("search space: dimension '" + dimension.name + "' declared twice");
  if (dimension.spec.type == ParameterType::kCategorical && dimension.spec.choices.empty())
    throw std::invalid_argument("search space: categorical dimension '" + dimension.name + "' has no choices");
  for (const auto& clause : dimension.active_when)
    for (const auto& [parent, value] : clause)
      if (!find(parent))
        throw std::invalid_argument("search space: dimension '" + dimension.name + "' depends on '" + parent +
                                    "', which is not declared before it");
  dimensions_.push_back(std::move(dimension));
}

const Dimension* SearchSpace::find(const std::string& name) const {
  for (const auto& dimension : dimensions_)
    if (dimension.name == name) return &dimension;
  return nullptr;
}

bool SearchSpace::is_active(const Dimension& dimension, const nlohmann::json& point) {
  if (dimension.active_when.empty()) return true;
  for (const auto& clause : dimension.active_when) {
    bool holds = true;
    for (const auto& [parent, value] : clause) {
      const auto found = point.find(parent);
      if (found == point.end() || *found != value) {
        holds = false;
        break;
      }
    }
    if (holds) return true;
  }
  return false;
}

void SearchSpace::validate(const nlohmann::json& point) const {
  if (!point.is_object()) throw std::invalid_argument("search space: a point must be a JSON object");
  nlohmann::json seen = nlohmann::json::object();
  for (const auto& dimension : dimensions_) {
    const bool active = is_active(dimension, seen);
    const bool present = point.contains(dimension.name);
    if (active && !present) throw std::invalid_argument("point lacks active dimension '" + dimension.name + "'");
    if (!active && present)
      throw std::invalid_argument("point holds '" + dimension.name + "', which is inactive there");
    if (!active) continue;
    if (!value_fits(dimension.spec, point[dimension.name]))
      throw std::invalid_argument("point gives '" + dimension.name + "' the illegal value " +
                                  point[dimension.name].dump());
    seen[dimension.name] = point[dimension.name];
  }
  for (const auto& [name, value] : point.items())
    if (!find(name)) throw std::invalid_argument("point holds unknown dimension '" + name + "'");
}

nlohmann::json SearchSpace::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& dimension : dimensions_) {
    nlohmann::json clauses = nlohmann::json::array();
    for (const auto& clause : dimension.active_when) {
      nlohmann::json terms = nlohmann::json::array();
      for (const auto& [parent, value] : clause) terms.push_back({{"parameter", parent}, {"equals", value}});
      clauses.push_back(terms);
    }
    nlohmann::json entry = spec_to_json(dimension.spec);
    entry["name"] = dimension.name;
    entry["active_when"] = clauses;
    out.push_back(entry);
  }
  return out;
}

std::string SearchSpace::fingerprint() const {
  // nlohmann::json keeps object keys sorted, so dump() is canonical.
  const std::string text = to_json().dump();
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

SearchSpace SearchSpace::from_parameter_space(const ParameterSpace& space, const std::string& prefix) {
  SearchSpace out;
  for (const auto& spec : space.parameters) {
    if (!spec.tunable) continue;
    Dimension dimension{prefix + spec.name, spec, {}};
    if (spec.condition) {
      const ParameterSpec* parent = space.find(spec.condition->parameter);
      if (parent && !parent->tunable) {
        // A condition on a fixed parameter is decided once, by its default.
        if (parent->default_value != spec.condition->equals) continue;
      } else {
        if (!out.find(prefix + spec.condition->parameter)) continue;  // its parent was dropped
        dimension.active_when.push_back({{prefix + spec.condition->parameter, spec.condition->equals}});
      }
    }
    out.add(std::move(dimension));
  }
  return out;
}

}  // namespace compactmind::search
