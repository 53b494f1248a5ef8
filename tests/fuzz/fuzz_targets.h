// The parsers a user's files reach, each wrapped as a fuzz target: the safetensors header, config.json,
// a plugin's space JSON and a pipeline JSON. A target runs one input through the project's real entry
// point (a file written to a scratch folder where the real API reads files) and returns what happened.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace compactmind::fuzz {

struct Outcome {
  bool accepted = false;
  std::string message;  // the rejection's what(), empty when accepted
};

struct FuzzTarget {
  std::string name;
  // Every rejection must name this (the file or the owner), so the user knows what was wrong where.
  std::string context;
  std::vector<std::string> seeds;
  std::function<Outcome(const std::string& input)> run;
};

struct TargetEnvironment {
  std::filesystem::path scratch;      // a private temporary folder
  std::filesystem::path fixtures;     // ../shared/fixtures (config.json seeds)
  std::filesystem::path plugin_dir;   // built plugins (space seeds, pipeline validation)
  std::filesystem::path configs_dir;  // the repository's configs/ (pipeline seeds)
};

// Names: safetensors, config, space, pipeline. Throws std::invalid_argument for another name.
FuzzTarget make_target(const std::string& name, const TargetEnvironment& environment);
std::vector<std::string> target_names();

}  // namespace compactmind::fuzz
