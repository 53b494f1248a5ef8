// A method's declared hyperparameter space: the JSON a plugin hands the host (format: docs/abi.md)
// and its ONE parser and validator, shared by the SDK (SpaceBuilder::to_json checks what a plugin
// declares), the host (checks what a loaded plugin hands over) and the search (reads the spaces),
// so that a space one of them accepts is exactly a space the others accept. Torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace compactmind {

enum class ParameterType { kFloat, kInt, kCategorical, kBool };

// "float", "int", "categorical", "bool": the spelling of the JSON "type" key.
std::string to_string(ParameterType type);

struct ParameterCondition {
  std::string parameter;  // an earlier parameter of the same space
  nlohmann::json equals;  // a legal value of it, the one that activates the dependent parameter
};

struct ParameterSpec {
  std::string name;
  ParameterType type = ParameterType::kFloat;
  double low = 0.0;   // float/int bounds (inclusive)
  double high = 0.0;
  bool log_scale = false;
  double step = 0.0;  // 0 = continuous (float only); an int's step is at least 1
  std::vector<std::string> choices;  // categorical
  nlohmann::json default_value;
  bool tunable = true;
  std::optional<ParameterCondition> condition;

  // Why `value` is not a legal value of this parameter (type, bounds, choices), e.g.
  // "100.0 is outside [0.1, 10.0]"; nullopt when it is legal. The step grid is not checked here:
  // a hand-written pipeline may set any value within the bounds.
  std::optional<std::string> rejection_of(const nlohmann::json& value) const;
};

struct ParameterSpace {
  std::vector<ParameterSpec> parameters;

  // Validates a space document ({"parameters": [...]}) and reads it. Throws std::invalid_argument
  // with the problem, naming the parameter: "space parameter 'n': step must be positive, got 0".
  static ParameterSpace from_json(const nlohmann::json& document);
  // from_json on JSON text; every error (syntax included) is prefixed with "<owner>: ".
  static ParameterSpace parse(const std::string& json_text, const std::string& owner);

  const ParameterSpec* find(const std::string& name) const;
  // Checks user-given values (unknown names, types, bounds, choices) and fills defaults for the
  // parameters whose condition holds. Throws std::invalid_argument naming `owner` and the parameter:
  // "<owner>: parameter 'scale': 100.0 is outside [0.1, 10.0]".
  nlohmann::json resolve(const nlohmann::json& given, const std::string& owner) const;
};

}  // namespace compactmind
