// A pipeline: an ordered list of steps {"method": NAME, ...params}, written by hand (a JSON file or
// inline JSON text, configs/README.md) or decoded from a search point. Before anything runs it is
// validated against the registered plugins' declared spaces and every step's parameters are resolved
// (defaults filled in), so a typo fails in milliseconds, not after loading and calibrating a model.
#pragma once

#include "compactmind/host/plugin_registry.h"
#include "compactmind/search/pipeline_space.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace compactmind::host {

struct PipelineStep {
  std::string method;
  nlohmann::json params = nlohmann::json::object();  // resolved: every applicable parameter present
};

struct Pipeline {
  std::vector<PipelineStep> steps;

  // [{"method": NAME, ...params}, ...], the form of configs/ and of a search trial's "pipeline".
  nlohmann::json to_json() const;
  // "llm-pruner(ratio=0.2, ...) → smoothquant(alpha=0.5, ...)".
  std::string describe() const;
};

// `argument` is inline JSON when it starts (after blanks) with '[' or '{', else a file name. Accepts
// an array of steps or an object {"steps": [...]} (room for a description next to the steps). Throws
// std::runtime_error naming the file and the JSON error's position.
nlohmann::json read_pipeline_json(const std::string& argument);
// The same rule for any JSON option (`what` names it in errors, e.g. "space"): inline or a file.
nlohmann::json read_json_argument(const std::string& argument, const std::string& what);

// The registered plugins as the search library sees them (name, kind, declared space).
std::vector<search::PluginEntry> plugin_entries(const PluginRegistry& registry);

// Validates `steps` against the plugins' declared spaces and resolves every parameter. Throws
// std::invalid_argument naming the step (1-based), the method and the parameter: unknown method (the
// known ones listed), unknown parameter, wrong type, value out of bounds.
Pipeline resolve_pipeline(const nlohmann::json& steps, const PluginRegistry& registry);

}  // namespace compactmind::host
