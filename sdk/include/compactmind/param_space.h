// Declaring a method's hyperparameter space as data. A plugin builds it with SpaceBuilder; the
// descriptor carries the resulting JSON text, which the host and the search read without running the
// plugin. JSON format (docs/abi.md):
//   {"parameters": [{"name": "alpha", "type": "float", "low": 0.0, "high": 1.0, "log": false,
//                    "step": null, "default": 0.5, "tunable": true,
//                    "condition": {"parameter": "smooth", "equals": true}}, ...]}
// type ∈ float | int | categorical | bool; categorical has "choices" (strings) instead of low/high;
// "condition" (optional) says the parameter applies only when another one equals a value;
// "tunable": false keeps the parameter at its default during a search (still settable in pipelines).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace compactmind {

class SpaceBuilder {
 public:
  // Continuous floats and every-integer ints; .log_scale() and .step() change that.
  SpaceBuilder& add_float(const std::string& name, double low, double high, double default_value);
  SpaceBuilder& add_int(const std::string& name, int64_t low, int64_t high, int64_t default_value);
  SpaceBuilder& add_categorical(const std::string& name, const std::vector<std::string>& choices,
                                const std::string& default_value);
  SpaceBuilder& add_bool(const std::string& name, bool default_value);
  // Modifiers of the parameter added last (named, so a call reads the same for floats and ints).
  SpaceBuilder& log_scale();  // sample on a log scale (float or int; needs low > 0)
  SpaceBuilder& step(double step);  // only low + k·step (float or int; an int's step must be an integer)
  SpaceBuilder& when(const std::string& parameter, const nlohmann::json& equals);
  SpaceBuilder& fixed();  // not tuned by the search
  // Validates with the host's own validator (compactmind/contract/parameter_space.h: unique names,
  // low ≤ default ≤ high, default among choices, log needs low > 0, positive steps, conditions on an
  // earlier parameter's legal value) and throws std::invalid_argument naming the parameter.
  std::string to_json() const;

 private:
  nlohmann::json& last(const char* modifier);
  nlohmann::json& last_numeric(const char* modifier);
  nlohmann::json parameters_ = nlohmann::json::array();
};

// A method's resolved parameters (every declared parameter present), with typed access.
class Params {
 public:
  explicit Params(nlohmann::json values);
  double get_float(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  std::string get_string(const std::string& name) const;
  bool has(const std::string& name) const;
  const nlohmann::json& json() const { return values_; }

 private:
  const nlohmann::json& at(const std::string& name) const;
  nlohmann::json values_;
};

}  // namespace compactmind
