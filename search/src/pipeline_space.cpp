#include "compactmind/search/pipeline_space.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace compactmind::search {
namespace {

ParameterSpec method_choice(const std::string& name, const std::vector<std::string>& choices) {
  ParameterSpec spec;
  spec.name = name;
  spec.type = ParameterType::kCategorical;
  spec.choices = choices;
  spec.default_value = choices.front();
  return spec;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

PipelineSpace::PipelineSpace(std::vector<PluginEntry> plugins, PipelineSpaceOptions options)
    : plugins_(std::move(plugins)), options_(options) {
  std::vector<std::string> pruning, quantization, retraining;
  for (size_t i = 0; i < plugins_.size(); ++i) {
    const auto& entry = plugins_[i];
    if (entry.name.empty()) throw std::invalid_argument("pipeline space: a plugin has no name");
    for (size_t j = 0; j < i; ++j)
      if (plugins_[j].name == entry.name)
        throw std::invalid_argument("pipeline space: two plugins are named '" + entry.name + "'");
    if (entry.kind == PluginKind::kPruning) pruning.push_back(entry.name);
    if (entry.kind == PluginKind::kQuantization) quantization.push_back(entry.name);
    if (entry.kind == PluginKind::kRetraining) retraining.push_back(entry.name);
  }
  std::vector<std::string> single;
  for (const auto& entry : plugins_)
    if (entry.kind == PluginKind::kPruning || entry.kind == PluginKind::kQuantization) single.push_back(entry.name);
  if (single.empty())
    throw std::invalid_argument("pipeline space: no pruning or quantization plugin is registered, nothing to search");
  if (options_.retrain && retraining.empty())
    throw std::invalid_argument("pipeline space: retraining is on (--retrain true) but no retraining plugin is registered");
  const bool hybrid = !pruning.empty() && !quantization.empty();

  std::vector<std::string> modes{"single"};
  if (hybrid) modes.push_back("hybrid");
  space_.add({kMode, method_choice(kMode, modes), {}});
  space_.add({kSingleMethod, method_choice(kSingleMethod, single), {{{kMode, "single"}}}});
  if (hybrid) {
    space_.add({kPruningMethod, method_choice(kPruningMethod, pruning), {{{kMode, "hybrid"}}}});
    if (options_.retrain)
      space_.add({kRetrainingMethod, method_choice(kRetrainingMethod, retraining), {{{kMode, "hybrid"}}}});
    space_.add({kQuantizationMethod, method_choice(kQuantizationMethod, quantization), {{{kMode, "hybrid"}}}});
  }

  for (const auto& entry : plugins_) {
    // The slots this plugin can fill; its parameters apply when it fills any of them.
    std::vector<ActivationClause> chosen;
    if (entry.kind == PluginKind::kPruning || entry.kind == PluginKind::kQuantization)
      chosen.push_back({{kSingleMethod, entry.name}});
    if (hybrid && entry.kind == PluginKind::kPruning) chosen.push_back({{kPruningMethod, entry.name}});
    if (hybrid && entry.kind == PluginKind::kQuantization) chosen.push_back({{kQuantizationMethod, entry.name}});
    if (hybrid && options_.retrain && entry.kind == PluginKind::kRetraining)
      chosen.push_back({{kRetrainingMethod, entry.name}});
    if (chosen.empty()) continue;
    const std::string prefix = entry.name + ".";
    for (const auto& spec : entry.space.parameters) {
      if (!spec.tunable) continue;
      Dimension dimension{prefix + spec.name, spec, chosen};
      if (spec.condition) {
        const ParameterSpec* parent = entry.space.find(spec.condition->parameter);
        if (parent && !parent->tunable) {
          // A condition on a fixed parameter is settled once, by its default.
          if (parent->default_value != spec.condition->equals) continue;
        } else {
          // The parent's presence already implies the plugin was chosen.
          if (!space_.find(prefix + spec.condition->parameter)) continue;
          dimension.active_when = {{{prefix + spec.condition->parameter, spec.condition->equals}}};
        }
      }
      space_.add(std::move(dimension));
    }
  }
}

const PluginEntry& PipelineSpace::plugin(const std::string& name) const {
  for (const auto& entry : plugins_)
    if (entry.name == name) return entry;
  throw std::invalid_argument("pipeline space: no plugin named '" + name + "'");
}

nlohmann::json PipelineSpace::to_pipeline(const nlohmann::json& point) const {
  space_.validate(point);
  std::vector<std::string> methods;
  if (point.at(kMode) == "single") {
    methods.push_back(point.at(kSingleMethod).get<std::string>());
  } else {
    methods.push_back(point.at(kPruningMethod).get<std::string>());
    if (options_.retrain) methods.push_back(point.at(kRetrainingMethod).get<std::string>());
    methods.push_back(point.at(kQuantizationMethod).get<std::string>());
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& method : methods) {
    const PluginEntry& entry = plugin(method);
    nlohmann::json given = nlohmann::json::object();
    for (const auto& spec : entry.space.parameters) {
      const auto found = point.find(method + "." + spec.name);
      if (found != point.end()) given[spec.name] = *found;
    }
    nlohmann::json step = entry.space.resolve(given, "plugin '" + method + "'");
    step["method"] = method;
    steps.push_back(std::move(step));
  }
  return steps;
}

namespace {

// What a method's declared kind says it needs: pruning, retraining and quantization all change dense
// float weights, and a quantization step leaves none (int8 or packed linears), so none of them may
// follow one. Refused here, before a model is loaded, instead of failing after the first step ran.
void check_step_order(const std::vector<PluginKind>& before, PluginKind kind, const std::string& where,
                      const nlohmann::json& steps) {
  if (kind == PluginKind::kOther) return;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] != PluginKind::kQuantization) continue;
    throw std::invalid_argument(where + ", a " + to_string(kind) + " method, cannot follow step " +
                                std::to_string(i + 1) + " ('" + steps[i].value("method", "?") +
                                "', quantization): after quantization the linears hold no dense float weights "
                                "to change; put pruning and retraining first and quantize once, last");
  }
}

}  // namespace

nlohmann::json resolve_pipeline(const nlohmann::json& pipeline, const std::vector<PluginEntry>& plugins) {
  const nlohmann::json& steps =
      pipeline.is_object() && pipeline.contains("steps") ? pipeline.at("steps") : pipeline;
  if (!steps.is_array() || steps.empty())
    throw std::invalid_argument("pipeline: expected a non-empty JSON array of steps {\"method\": NAME, ...}");
  std::vector<std::string> known;
  for (const auto& entry : plugins) known.push_back(entry.name);
  nlohmann::json resolved = nlohmann::json::array();
  std::vector<PluginKind> kinds;  // of the steps before the current one
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    const std::string where = "pipeline step " + std::to_string(i + 1);
    if (!step.is_object() || !step.contains("method") || !step["method"].is_string())
      throw std::invalid_argument(where + ": needs a string \"method\"");
    const std::string method = step["method"].get<std::string>();
    const PluginEntry* entry = nullptr;
    for (const auto& candidate : plugins)
      if (candidate.name == method) entry = &candidate;
    if (!entry)
      throw std::invalid_argument(where + ": unknown method '" + method + "' (registered: " + join(known) + ")");
    nlohmann::json given = step;
    given.erase("method");
    nlohmann::json out = entry->space.resolve(given, where + " ('" + method + "')");
    out["method"] = method;
    resolved.push_back(std::move(out));
    check_step_order(kinds, entry->kind, where + " ('" + method + "')", steps);
    kinds.push_back(entry->kind);
  }
  return resolved;
}

std::string describe_pipeline(const nlohmann::json& steps) {
  if (!steps.is_array()) return "";
  std::string out;
  for (const auto& step : steps) {
    if (!out.empty()) out += " \xE2\x86\x92 ";  // →
    out += step.value("method", "?") + "(";
    bool first = true;
    for (const auto& [name, value] : step.items()) {
      if (name == "method") continue;
      out += (first ? "" : ", ") + name + "=";
      first = false;
      if (value.is_string()) {
        out += value.get<std::string>();
      } else if (value.is_number_float()) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.4g", value.get<double>());
        out += buffer;
      } else {
        out += value.dump();
      }
    }
    out += ")";
  }
  return out;
}

}  // namespace compactmind::search
