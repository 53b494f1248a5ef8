// Reading and validating hand-written pipelines (pipeline.h). The validation itself is the search
// library's resolve_pipeline, so a hand-written pipeline and a sampled one obey the same rules.
#include "compactmind/host/pipeline.h"

#include "json_error_location.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace compactmind::host {
namespace {

bool looks_inline(const std::string& argument) {
  const size_t first = argument.find_first_not_of(" \t\r\n");
  return first != std::string::npos && (argument[first] == '[' || argument[first] == '{');
}

}  // namespace

nlohmann::json Pipeline::to_json() const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const auto& step : steps) {
    nlohmann::json entry = {{"method", step.method}};
    entry.update(step.params);
    steps_json.push_back(std::move(entry));
  }
  return steps_json;
}

std::string Pipeline::describe() const { return search::describe_pipeline(to_json()); }

nlohmann::json read_pipeline_json(const std::string& argument) { return read_json_argument(argument, "pipeline"); }

nlohmann::json read_json_argument(const std::string& argument, const std::string& what) {
  std::string text = argument;
  std::string source = "inline " + what;
  if (!looks_inline(argument)) {
    std::ifstream file(argument, std::ios::binary);
    if (!file)
      throw std::runtime_error(what + " file '" + argument +
                               "' cannot be read (not a file, and not inline JSON starting with '[' or '{')");
    std::ostringstream content;
    content << file.rdbuf();
    text = content.str();
    source = what + " file '" + argument + "'";
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range for 1e400
    std::string key;
    const std::string location = json_error_location(text, key);
    throw std::runtime_error(source + " is not valid JSON: " + error.what() +
                             (location.empty() ? "" : " (at " + location) +
                             (key.empty() ? "" : ", parameter '" + key + "'") + (location.empty() ? "" : ")"));
  }
}

std::vector<search::PluginEntry> plugin_entries(const PluginRegistry& registry) {
  std::vector<search::PluginEntry> entries;
  for (const auto& plugin : registry.plugins()) entries.push_back({plugin.name, plugin.kind, plugin.space});
  return entries;
}

Pipeline resolve_pipeline(const nlohmann::json& steps, const PluginRegistry& registry) {
  const nlohmann::json resolved = search::resolve_pipeline(steps, plugin_entries(registry));
  Pipeline pipeline;
  for (const auto& step : resolved) {
    PipelineStep entry{step.at("method").get<std::string>(), step};
    entry.params.erase("method");
    pipeline.steps.push_back(std::move(entry));
  }
  return pipeline;
}

}  // namespace compactmind::host
