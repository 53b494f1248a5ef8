// Narrowing the declared spaces for one search (space_overrides.h).
#include "compactmind/host/space_overrides.h"

#include "compactmind/search/search_space.h"

#include <algorithm>
#include <stdexcept>

namespace compactmind::host {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& problem) {
  throw std::invalid_argument("--space: '" + key + "': " + problem);
}

std::string plugin_names(const std::vector<search::PluginEntry>& plugins) {
  std::string names;
  for (const auto& plugin : plugins) names += (names.empty() ? "" : ", ") + plugin.name;
  return names;
}

void narrow_range(ParameterSpec& spec, const std::string& key, const nlohmann::json& range) {
  if (spec.type != ParameterType::kFloat && spec.type != ParameterType::kInt)
    fail(key, "\"low\"/\"high\" apply to numeric parameters only");
  const double low = range.value("low", spec.low);
  const double high = range.value("high", spec.high);
  if (low < spec.low || high > spec.high || low > high)
    fail(key, "[" + nlohmann::json(low).dump() + ", " + nlohmann::json(high).dump() +
                  "] is not a range inside the declared [" + nlohmann::json(spec.low).dump() + ", " +
                  nlohmann::json(spec.high).dump() + "]");
  spec.low = low;
  spec.high = high;
  // The default stays a legal value (it is what a fixed or inactive parameter takes).
  const double clamped = std::clamp(spec.default_value.get<double>(), low, high);
  spec.default_value = spec.type == ParameterType::kInt ? nlohmann::json(static_cast<int64_t>(clamped))
                                                                : nlohmann::json(clamped);
}

void narrow_choices(ParameterSpec& spec, const std::string& key, const nlohmann::json& choices) {
  if (spec.type != ParameterType::kCategorical) fail(key, "\"choices\" apply to categorical parameters only");
  if (!choices.is_array() || choices.empty()) fail(key, "\"choices\" must be a non-empty array");
  std::vector<std::string> kept;
  for (const auto& choice : choices) {
    if (!choice.is_string() || std::find(spec.choices.begin(), spec.choices.end(), choice.get<std::string>()) ==
                                   spec.choices.end())
      fail(key, choice.dump() + " is not one of its declared choices");
    kept.push_back(choice.get<std::string>());
  }
  if (std::find(kept.begin(), kept.end(), spec.default_value.get<std::string>()) == kept.end())
    spec.default_value = kept.front();
  spec.choices = kept;
}

}  // namespace

void apply_space_overrides(std::vector<search::PluginEntry>& plugins, const nlohmann::json& overrides) {
  if (!overrides.is_object()) throw std::invalid_argument("--space: expected a JSON object {\"plugin.parameter\": ...}");
  for (const auto& [key, value] : overrides.items()) {
    const size_t dot = key.find('.');
    const std::string plugin_name = key.substr(0, dot);
    const auto plugin = std::find_if(plugins.begin(), plugins.end(),
                                     [&](const search::PluginEntry& entry) { return entry.name == plugin_name; });
    if (plugin == plugins.end()) fail(key, "no plugin named '" + plugin_name + "' (loaded: " + plugin_names(plugins) + ")");
    if (dot == std::string::npos) {
      if (value != false) fail(key, "a bare plugin name takes false (leave it out of the search)");
      plugins.erase(plugin);
      continue;
    }
    const std::string parameter = key.substr(dot + 1);
    auto spec = std::find_if(plugin->space.parameters.begin(), plugin->space.parameters.end(),
                             [&](const ParameterSpec& candidate) { return candidate.name == parameter; });
    if (spec == plugin->space.parameters.end()) {
      std::string declared;
      for (const auto& candidate : plugin->space.parameters) declared += (declared.empty() ? "" : ", ") + candidate.name;
      fail(key, "plugin '" + plugin_name + "' declares no parameter '" + parameter + "' (declared: " + declared + ")");
    }
    if (value.is_object() && (value.contains("low") || value.contains("high"))) {
      narrow_range(*spec, key, value);
    } else if (value.is_object() && value.contains("choices")) {
      narrow_choices(*spec, key, value.at("choices"));
    } else if (!value.is_object()) {
      if (!search::value_fits(*spec, value)) fail(key, value.dump() + " is not a legal value of this parameter");
      spec->default_value = value;
      spec->tunable = false;
    } else {
      fail(key, "expected a value, {\"low\": ..., \"high\": ...} or {\"choices\": [...]}");
    }
  }
}

}  // namespace compactmind::host
