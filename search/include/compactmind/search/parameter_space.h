// A method's declared hyperparameter space, parsed from the JSON its plugin descriptor carries
// (format: sdk/include/compactmind/param_space.h, docs/abi.md). Torch-free: the search reads spaces
// without running any plugin.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace compactmind::search {

enum class ParameterType { kFloat, kInt, kCategorical, kBool };

struct ParameterCondition {
  std::string parameter;  // another parameter of the same space
  nlohmann::json equals;  // the value that activates this one
};

struct ParameterSpec {
  std::string name;
  ParameterType type = ParameterType::kFloat;
  double low = 0.0;   // float/int bounds (inclusive)
  double high = 0.0;
  bool log_scale = false;
  double step = 0.0;  // 0 = continuous (float); int steps default to 1
  std::vector<std::string> choices;  // categorical
  nlohmann::json default_value;
  bool tunable = true;
  std::optional<ParameterCondition> condition;
};

struct ParameterSpace {
  std::vector<ParameterSpec> parameters;

  // Throws std::invalid_argument naming `owner` (e.g. the plugin) and the offending parameter.
  static ParameterSpace parse(const std::string& json_text, const std::string& owner);
  const ParameterSpec* find(const std::string& name) const;
  // Checks user-given values (unknown names, types, bounds, choices) and fills defaults for the
  // parameters whose condition holds. Throws std::invalid_argument naming `owner` and the parameter.
  nlohmann::json resolve(const nlohmann::json& given, const std::string& owner) const;
};

std::string to_string(ParameterType type);

}  // namespace compactmind::search
