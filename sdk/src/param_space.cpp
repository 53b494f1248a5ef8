// SpaceBuilder (a plugin's declared hyperparameter space → JSON, format in param_space.h and
// docs/abi.md) and Params (typed access to the resolved values the host passes to apply).
#include "compactmind/param_space.h"

#include "compactmind/contract/parameter_space.h"

#include <cmath>
#include <stdexcept>

namespace compactmind {
namespace {

// "step": null until .step() sets one: no grid for a float, every integer for an int (docs/abi.md).
nlohmann::json numeric_entry(const std::string& name, const char* type, const nlohmann::json& low,
                             const nlohmann::json& high, const nlohmann::json& default_value) {
  return {{"name", name}, {"type", type},       {"low", low},   {"high", high},
          {"log", false}, {"step", nullptr}, {"default", default_value}, {"tunable", true}};
}

const char* json_type_name(const nlohmann::json& value) { return value.type_name(); }

}  // namespace

SpaceBuilder& SpaceBuilder::add_float(const std::string& name, double low, double high,
                                      double default_value) {
  parameters_.push_back(numeric_entry(name, "float", low, high, default_value));
  return *this;
}

SpaceBuilder& SpaceBuilder::add_int(const std::string& name, int64_t low, int64_t high,
                                    int64_t default_value) {
  parameters_.push_back(numeric_entry(name, "int", low, high, default_value));
  return *this;
}

SpaceBuilder& SpaceBuilder::log_scale() {
  last_numeric("log_scale")["log"] = true;
  return *this;
}

SpaceBuilder& SpaceBuilder::step(double step) {
  nlohmann::json& entry = last_numeric("step");
  // An int's whole step is written as an integer; any other value is left for to_json's validator
  // to reject with its message ("step must be positive", "... must be an integer").
  const bool whole = std::isfinite(step) && std::floor(step) == step && std::fabs(step) < 9.0e15;
  entry["step"] = entry["type"] == "int" && whole ? nlohmann::json(static_cast<int64_t>(step)) : nlohmann::json(step);
  return *this;
}

SpaceBuilder& SpaceBuilder::add_categorical(const std::string& name,
                                            const std::vector<std::string>& choices,
                                            const std::string& default_value) {
  parameters_.push_back({{"name", name},
                         {"type", "categorical"},
                         {"choices", choices},
                         {"default", default_value},
                         {"tunable", true}});
  return *this;
}

SpaceBuilder& SpaceBuilder::add_bool(const std::string& name, bool default_value) {
  parameters_.push_back({{"name", name}, {"type", "bool"}, {"default", default_value}, {"tunable", true}});
  return *this;
}

SpaceBuilder& SpaceBuilder::when(const std::string& parameter, const nlohmann::json& equals) {
  last("when")["condition"] = {{"parameter", parameter}, {"equals", equals}};
  return *this;
}

SpaceBuilder& SpaceBuilder::fixed() {
  last("fixed")["tunable"] = false;
  return *this;
}

nlohmann::json& SpaceBuilder::last(const char* modifier) {
  if (parameters_.empty())
    throw std::logic_error(std::string("SpaceBuilder::") + modifier +
                           "() modifies the parameter added last, but none was added yet");
  return parameters_.back();
}

nlohmann::json& SpaceBuilder::last_numeric(const char* modifier) {
  nlohmann::json& entry = last(modifier);
  if (entry["type"] != "float" && entry["type"] != "int")
    throw std::logic_error(std::string("SpaceBuilder::") + modifier + "() applies to float and int parameters, '" +
                           entry["name"].get<std::string>() + "' is " + entry["type"].get<std::string>());
  return entry;
}

std::string SpaceBuilder::to_json() const {
  const nlohmann::json document = {{"parameters", parameters_}};
  // The host's and the search's validator, so a space that builds here is one the host accepts.
  ParameterSpace::from_json(document);
  return document.dump();
}

Params::Params(nlohmann::json values) : values_(std::move(values)) {
  if (!values_.is_object())
    throw std::invalid_argument("method parameters must be a JSON object, got " + values_.dump());
}

bool Params::has(const std::string& name) const { return values_.contains(name); }

const nlohmann::json& Params::at(const std::string& name) const {
  const auto found = values_.find(name);
  if (found != values_.end()) return *found;
  std::string known;
  for (const auto& item : values_.items()) known += (known.empty() ? "" : ", ") + item.key();
  // A conditional parameter is absent when its condition does not hold: say so, it is the usual cause.
  throw std::invalid_argument("parameter '" + name + "' is not set (given: " +
                              (known.empty() ? "none" : known) +
                              "); if it is conditional, check has() first");
}

double Params::get_float(const std::string& name) const {
  const auto& value = at(name);
  if (!value.is_number())
    throw std::invalid_argument("parameter '" + name + "' is a " + json_type_name(value) + " (" +
                                value.dump() + "), expected a number");
  return value.get<double>();
}

int64_t Params::get_int(const std::string& name) const {
  const auto& value = at(name);
  if (value.is_number_integer()) return value.get<int64_t>();
  // A search may hand back 64.0 for an int parameter after a JSON round trip; accept exact integers.
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9.0e15)
      return static_cast<int64_t>(number);
  }
  throw std::invalid_argument("parameter '" + name + "' is " + value.dump() + ", expected an integer");
}

bool Params::get_bool(const std::string& name) const {
  const auto& value = at(name);
  if (!value.is_boolean())
    throw std::invalid_argument("parameter '" + name + "' is " + value.dump() + ", expected true or false");
  return value.get<bool>();
}

std::string Params::get_string(const std::string& name) const {
  const auto& value = at(name);
  if (!value.is_string())
    throw std::invalid_argument("parameter '" + name + "' is " + value.dump() + ", expected a string");
  return value.get<std::string>();
}

}  // namespace compactmind
