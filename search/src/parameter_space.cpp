#include "compactmind/search/parameter_space.h"

#include <cmath>
#include <stdexcept>

namespace compactmind::search {
namespace {

[[noreturn]] void fail(const std::string& owner, const std::string& parameter, const std::string& problem) {
  throw std::invalid_argument(owner + ": parameter '" + parameter + "': " + problem);
}

ParameterType parse_type(const std::string& text, const std::string& owner, const std::string& name) {
  if (text == "float") return ParameterType::kFloat;
  if (text == "int") return ParameterType::kInt;
  if (text == "categorical") return ParameterType::kCategorical;
  if (text == "bool") return ParameterType::kBool;
  fail(owner, name, "unknown type '" + text + "' (expected float, int, categorical or bool)");
}

// Whether `value` is a legal value of `spec`; the reason goes into `why` when it is not.
bool accepts(const ParameterSpec& spec, const nlohmann::json& value, std::string& why) {
  switch (spec.type) {
    case ParameterType::kBool:
      if (!value.is_boolean()) return why = "expects true or false, got " + value.dump(), false;
      return true;
    case ParameterType::kCategorical: {
      if (!value.is_string()) return why = "expects one of its choices, got " + value.dump(), false;
      for (const auto& choice : spec.choices)
        if (choice == value.get<std::string>()) return true;
      std::string list;
      for (const auto& choice : spec.choices) list += (list.empty() ? "" : ", ") + choice;
      return why = "'" + value.get<std::string>() + "' is not one of {" + list + "}", false;
    }
    case ParameterType::kInt:
      if (!value.is_number_integer()) return why = "expects an integer, got " + value.dump(), false;
      [[fallthrough]];
    case ParameterType::kFloat: {
      if (!value.is_number()) return why = "expects a number, got " + value.dump(), false;
      const double number = value.get<double>();
      if (!std::isfinite(number) || number < spec.low || number > spec.high) {
        why = value.dump() + " is outside [" + nlohmann::json(spec.low).dump() + ", " +
              nlohmann::json(spec.high).dump() + "]";
        return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace

std::string to_string(ParameterType type) {
  switch (type) {
    case ParameterType::kFloat: return "float";
    case ParameterType::kInt: return "int";
    case ParameterType::kCategorical: return "categorical";
    case ParameterType::kBool: return "bool";
  }
  return "?";
}

ParameterSpace ParameterSpace::parse(const std::string& json_text, const std::string& owner) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    throw std::invalid_argument(owner + ": space is not valid JSON: " + error.what());
  }
  if (!root.is_object() || !root.contains("parameters") || !root["parameters"].is_array())
    throw std::invalid_argument(owner + ": space must be an object with a \"parameters\" array");
  ParameterSpace space;
  for (const auto& entry : root["parameters"]) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string())
      throw std::invalid_argument(owner + ": every space parameter needs a string \"name\"");
    ParameterSpec spec;
    spec.name = entry["name"].get<std::string>();
    if (space.find(spec.name)) fail(owner, spec.name, "declared twice");
    if (!entry.contains("type") || !entry["type"].is_string()) fail(owner, spec.name, "missing \"type\"");
    spec.type = parse_type(entry["type"].get<std::string>(), owner, spec.name);
    spec.log_scale = entry.value("log", false);
    spec.tunable = entry.value("tunable", true);
    if (spec.type == ParameterType::kFloat || spec.type == ParameterType::kInt) {
      if (!entry.contains("low") || !entry.contains("high") || !entry["low"].is_number() || !entry["high"].is_number())
        fail(owner, spec.name, "numeric parameters need numeric \"low\" and \"high\"");
      spec.low = entry["low"].get<double>();
      spec.high = entry["high"].get<double>();
      if (!(spec.low <= spec.high)) fail(owner, spec.name, "low is greater than high");
      if (spec.log_scale && spec.low <= 0) fail(owner, spec.name, "a log-scale parameter needs low > 0");
      if (entry.contains("step") && entry["step"].is_number()) spec.step = entry["step"].get<double>();
      if (spec.type == ParameterType::kInt && spec.step <= 0) spec.step = 1;
      if (spec.step < 0) fail(owner, spec.name, "step must be positive");
    } else if (spec.type == ParameterType::kCategorical) {
      if (!entry.contains("choices") || !entry["choices"].is_array() || entry["choices"].empty())
        fail(owner, spec.name, "a categorical parameter needs a non-empty \"choices\" array");
      for (const auto& choice : entry["choices"]) {
        if (!choice.is_string()) fail(owner, spec.name, "choices must be strings");
        spec.choices.push_back(choice.get<std::string>());
      }
    }
    if (!entry.contains("default")) fail(owner, spec.name, "missing \"default\"");
    spec.default_value = entry["default"];
    std::string why;
    if (!accepts(spec, spec.default_value, why)) fail(owner, spec.name, "default " + why);
    if (entry.contains("condition") && !entry["condition"].is_null()) {
      const auto& condition = entry["condition"];
      if (!condition.is_object() || !condition.contains("parameter") || !condition.contains("equals"))
        fail(owner, spec.name, "condition needs \"parameter\" and \"equals\"");
      const std::string parent = condition["parameter"].get<std::string>();
      if (!space.find(parent)) fail(owner, spec.name, "condition names '" + parent + "', not declared before it");
      spec.condition = ParameterCondition{parent, condition["equals"]};
    }
    space.parameters.push_back(std::move(spec));
  }
  return space;
}

const ParameterSpec* ParameterSpace::find(const std::string& name) const {
  for (const auto& spec : parameters)
    if (spec.name == name) return &spec;
  return nullptr;
}

nlohmann::json ParameterSpace::resolve(const nlohmann::json& given, const std::string& owner) const {
  if (!given.is_object()) throw std::invalid_argument(owner + ": parameters must be a JSON object");
  for (const auto& [name, value] : given.items()) {
    const ParameterSpec* spec = find(name);
    if (!spec) {
      std::string known;
      for (const auto& candidate : parameters) known += (known.empty() ? "" : ", ") + candidate.name;
      throw std::invalid_argument(owner + ": unknown parameter '" + name + "' (declared: " + known + ")");
    }
    std::string why;
    if (!accepts(*spec, value, why)) fail(owner, name, why);
  }
  nlohmann::json resolved = nlohmann::json::object();
  // Parents are declared before their dependents, so one pass in declaration order suffices.
  for (const auto& spec : parameters) {
    if (spec.condition) {
      const auto parent = resolved.find(spec.condition->parameter);
      if (parent == resolved.end() || *parent != spec.condition->equals) {
        if (given.contains(spec.name))
          fail(owner, spec.name, "given, but it applies only when '" + spec.condition->parameter +
                                     "' is " + spec.condition->equals.dump());
        continue;
      }
    }
    resolved[spec.name] = given.contains(spec.name) ? given[spec.name] : spec.default_value;
  }
  return resolved;
}

}  // namespace compactmind::search
