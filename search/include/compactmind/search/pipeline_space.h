// The conditional space of compression pipelines, built at run time from the registered plugins:
//   mode                  {single, hybrid}                (only the modes the plugins allow)
//   single_method         pruning + quantization plugins  (mode = single)
//   pruning_method        pruning plugins                 (mode = hybrid)
//   retraining_method     retraining plugins              (mode = hybrid, retrain on)
//   quantization_method   quantization plugins            (mode = hybrid)
//   <plugin>.<parameter>  each tunable parameter of each plugin, active when that plugin is chosen
//                         in any slot (so what it learns in single mode serves hybrid mode too) and
//                         its own declared condition holds.
// Non-tunable parameters keep their defaults; "other" plugins are not placed by the search (they
// remain usable in hand-written pipelines). Nothing is hard-coded: a plugin added to the list is in the
// space. A point becomes a pipeline [{"method": NAME, ...params}] — the form of hand-written files.
#pragma once

#include "compactmind/contract/parameter_space.h"
#include "compactmind/contract/plugin_kind.h"
#include "compactmind/search/search_space.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace compactmind::search {

struct PluginEntry {
  std::string name;
  PluginKind kind = PluginKind::kOther;
  ParameterSpace space;
};

struct PipelineSpaceOptions {
  bool retrain = false;  // hybrid pipelines get a retraining step between pruning and quantization
};

class PipelineSpace {
 public:
  static constexpr const char* kMode = "mode";
  static constexpr const char* kSingleMethod = "single_method";
  static constexpr const char* kPruningMethod = "pruning_method";
  static constexpr const char* kRetrainingMethod = "retraining_method";
  static constexpr const char* kQuantizationMethod = "quantization_method";

  // Throws std::invalid_argument when no pipeline is possible (no pruning or quantization plugin),
  // when retrain is on but no retraining plugin exists, or on duplicate plugin names.
  PipelineSpace(std::vector<PluginEntry> plugins, PipelineSpaceOptions options);

  const SearchSpace& space() const { return space_; }
  const std::vector<PluginEntry>& plugins() const { return plugins_; }
  const PipelineSpaceOptions& options() const { return options_; }
  // The ordered steps of a sampled point, each with its resolved parameters (defaults filled in).
  nlohmann::json to_pipeline(const nlohmann::json& point) const;

 private:
  const PluginEntry& plugin(const std::string& name) const;

  std::vector<PluginEntry> plugins_;
  PipelineSpaceOptions options_;
  SearchSpace space_;
};

// Validates a hand-written pipeline (a JSON array of {"method": NAME, ...params}) against the plugins'
// declared spaces and returns it with every step's parameters resolved. Throws std::invalid_argument
// naming the step, the method and the parameter (unknown method or parameter, value out of bounds).
nlohmann::json resolve_pipeline(const nlohmann::json& steps, const std::vector<PluginEntry>& plugins);

// "llm_pruner(ratio=0.2, importance=l2) → smoothquant(alpha=0.5)", for progress lines and reports.
std::string describe_pipeline(const nlohmann::json& steps);

}  // namespace compactmind::search
