// The space format's single validator (parameter_space.h). The rules are the union of what the SDK
// and the search each checked before they shared this file, so nothing either rejected is accepted:
// unique non-empty names, a known type, finite bounds with low <= high (integers for int), log scale
// only above 0, a positive step (an integer for int), non-empty distinct choices, a legal default,
// and conditions naming an earlier parameter and one of its legal values.
#include "compactmind/contract/parameter_space.h"

#include <cmath>
#include <set>
#include <stdexcept>

namespace compactmind {
namespace {

[[noreturn]] void invalid(const std::string& name, const std::string& problem) {
  throw std::invalid_argument("space parameter '" + name + "': " + problem);
}

ParameterType parse_type(const nlohmann::json& entry, const std::string& name) {
  const auto found = entry.find("type");
  if (found == entry.end() || !found->is_string()) invalid(name, "missing \"type\" (a string)");
  for (const ParameterType type :
       {ParameterType::kFloat, ParameterType::kInt, ParameterType::kCategorical, ParameterType::kBool})
    if (to_string(type) == found->get<std::string>()) return type;
  invalid(name, "unknown type '" + found->get<std::string>() + "' (expected float, int, categorical or bool)");
}

// An optional boolean key ("log", "tunable"): absent means `fallback`, anything but a boolean is an error.
bool optional_flag(const nlohmann::json& entry, const char* key, bool fallback, const std::string& name) {
  const auto found = entry.find(key);
  if (found == entry.end()) return fallback;
  if (!found->is_boolean()) invalid(name, std::string("\"") + key + "\" must be true or false, got " + found->dump());
  return found->get<bool>();
}

void read_bounds(const nlohmann::json& entry, ParameterSpec& spec) {
  const auto low = entry.find("low");
  const auto high = entry.find("high");
  if (low == entry.end() || high == entry.end() || !low->is_number() || !high->is_number())
    invalid(spec.name, "numeric parameters need numeric \"low\" and \"high\"");
  if (spec.type == ParameterType::kInt && (!low->is_number_integer() || !high->is_number_integer()))
    invalid(spec.name, "an int parameter's bounds must be integers, got [" + low->dump() + ", " + high->dump() + "]");
  spec.low = low->get<double>();
  spec.high = high->get<double>();
  if (!std::isfinite(spec.low) || !std::isfinite(spec.high)) invalid(spec.name, "bounds must be finite");
  if (spec.low > spec.high) invalid(spec.name, "low " + low->dump() + " is greater than high " + high->dump());
  if (spec.log_scale && spec.low <= 0)
    invalid(spec.name, "a log-scale parameter needs low > 0, got " + low->dump());

  // null or absent: continuous for a float, every integer for an int.
  const auto step = entry.find("step");
  const bool has_step = step != entry.end() && !step->is_null();
  if (!has_step) {
    spec.step = spec.type == ParameterType::kInt ? 1.0 : 0.0;
    return;
  }
  if (!step->is_number()) invalid(spec.name, "step must be a number or null, got " + step->dump());
  if (!(step->get<double>() > 0)) invalid(spec.name, "step must be positive, got " + step->dump());
  if (spec.type == ParameterType::kInt && !step->is_number_integer())
    invalid(spec.name, "an int parameter's step must be an integer, got " + step->dump());
  spec.step = step->get<double>();
}

void read_choices(const nlohmann::json& entry, ParameterSpec& spec) {
  const auto choices = entry.find("choices");
  if (choices == entry.end() || !choices->is_array())
    invalid(spec.name, "a categorical parameter needs a \"choices\" array");
  if (choices->empty()) invalid(spec.name, "a categorical parameter needs at least one choice");
  std::set<std::string> seen;
  for (const auto& choice : *choices) {
    if (!choice.is_string()) invalid(spec.name, "choices must be strings, got " + choice.dump());
    if (!seen.insert(choice.get<std::string>()).second)
      invalid(spec.name, "choice '" + choice.get<std::string>() + "' listed twice");
    spec.choices.push_back(choice.get<std::string>());
  }
}

void read_condition(const nlohmann::json& entry, const ParameterSpace& earlier, ParameterSpec& spec) {
  const auto condition = entry.find("condition");
  if (condition == entry.end() || condition->is_null()) return;
  if (!condition->is_object() || !condition->contains("parameter") || !(*condition)["parameter"].is_string() ||
      !condition->contains("equals"))
    invalid(spec.name, "condition needs a string \"parameter\" and an \"equals\" value");
  const std::string parent = (*condition)["parameter"].get<std::string>();
  const nlohmann::json& equals = (*condition)["equals"];
  const ParameterSpec* parent_spec = earlier.find(parent);
  if (parent_spec == nullptr) invalid(spec.name, "condition names '" + parent + "', which is not declared before it");
  // A condition on a value the parent can never take would silently disable the parameter.
  if (parent_spec->rejection_of(equals))
    invalid(spec.name, "condition value " + equals.dump() + " is not a legal value of '" + parent + "'");
  spec.condition = ParameterCondition{parent, equals};
}

ParameterSpec read_parameter(const nlohmann::json& entry, size_t index, const ParameterSpace& earlier) {
  if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string())
    throw std::invalid_argument("space parameter #" + std::to_string(index + 1) + " needs a string \"name\"");
  ParameterSpec spec;
  spec.name = entry["name"].get<std::string>();
  if (spec.name.empty()) throw std::invalid_argument("space parameter with an empty name");
  if (earlier.find(spec.name)) invalid(spec.name, "declared twice");
  spec.type = parse_type(entry, spec.name);
  spec.log_scale = optional_flag(entry, "log", false, spec.name);
  spec.tunable = optional_flag(entry, "tunable", true, spec.name);
  if (spec.type == ParameterType::kFloat || spec.type == ParameterType::kInt) read_bounds(entry, spec);
  if (spec.type == ParameterType::kCategorical) read_choices(entry, spec);
  if (!entry.contains("default")) invalid(spec.name, "missing \"default\"");
  spec.default_value = entry["default"];
  if (const auto why = spec.rejection_of(spec.default_value)) invalid(spec.name, "default " + *why);
  read_condition(entry, earlier, spec);
  return spec;
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

std::optional<std::string> ParameterSpec::rejection_of(const nlohmann::json& value) const {
  switch (type) {
    case ParameterType::kBool:
      if (!value.is_boolean()) return "expects true or false, got " + value.dump();
      return std::nullopt;
    case ParameterType::kCategorical: {
      if (!value.is_string()) return "expects one of its choices, got " + value.dump();
      for (const auto& choice : choices)
        if (choice == value.get<std::string>()) return std::nullopt;
      std::string list;
      for (const auto& choice : choices) list += (list.empty() ? "" : ", ") + choice;
      return "'" + value.get<std::string>() + "' is not one of {" + list + "}";
    }
    case ParameterType::kInt:
      if (!value.is_number_integer()) return "expects an integer, got " + value.dump();
      [[fallthrough]];
    case ParameterType::kFloat: {
      if (!value.is_number()) return "expects a number, got " + value.dump();
      const double number = value.get<double>();
      if (!std::isfinite(number) || number < low || number > high)
        return value.dump() + " is outside [" + nlohmann::json(low).dump() + ", " + nlohmann::json(high).dump() + "]";
      return std::nullopt;
    }
  }
  return "has an unknown type";
}

ParameterSpace ParameterSpace::from_json(const nlohmann::json& document) {
  if (!document.is_object() || !document.contains("parameters") || !document["parameters"].is_array())
    throw std::invalid_argument("space must be an object with a \"parameters\" array");
  ParameterSpace space;
  const auto& entries = document["parameters"];
  for (size_t index = 0; index < entries.size(); ++index)
    space.parameters.push_back(read_parameter(entries[index], index, space));
  return space;
}

ParameterSpace ParameterSpace::parse(const std::string& json_text, const std::string& owner) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    throw std::invalid_argument(owner + ": space is not valid JSON: " + error.what());
  }
  try {
    return from_json(document);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(owner + ": " + error.what());
  }
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
    if (const auto why = spec->rejection_of(value))
      throw std::invalid_argument(owner + ": parameter '" + name + "': " + *why);
  }
  nlohmann::json resolved = nlohmann::json::object();
  // Parents are declared before their dependents, so one pass in declaration order suffices.
  for (const auto& spec : parameters) {
    if (spec.condition) {
      const auto parent = resolved.find(spec.condition->parameter);
      if (parent == resolved.end() || *parent != spec.condition->equals) {
        if (given.contains(spec.name))
          throw std::invalid_argument(owner + ": parameter '" + spec.name + "': given, but it applies only when '" +
                                      spec.condition->parameter + "' is " + spec.condition->equals.dump());
        continue;
      }
    }
    resolved[spec.name] = given.contains(spec.name) ? given[spec.name] : spec.default_value;
  }
  return resolved;
}

}  // namespace compactmind
