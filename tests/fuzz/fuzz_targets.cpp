#include "fuzz_targets.h"

#include "compactmind/host/pipeline.h"
#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_config.h"
#include "compactmind/safetensors.h"
#include "compactmind/contract/parameter_space.h"

#include <ATen/ATen.h>

#include <fstream>
#include <memory>
#include <stdexcept>

namespace compactmind::fuzz {
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) throw std::runtime_error("fuzz: cannot write '" + path.string() + "'");
}

// Runs `body`, turning a std::exception into a rejection; anything else propagates to the driver,
// which reports it as a finding.
Outcome outcome_of(const std::function<void()>& body) {
  try {
    body();
    return {true, ""};
  } catch (const std::exception& error) {
    return {false, error.what()};
  }
}

// Small valid checkpoints as seeds, written by the SDK's own writer: several dtypes and ranks, so
// mutations of the header meet every field the reader validates.
std::vector<std::string> safetensors_seeds(const fs::path& scratch) {
  const fs::path path = scratch / "seed.safetensors";
  std::vector<std::string> seeds;
  const std::vector<std::vector<std::pair<std::string, at::Tensor>>> sets = {
      {{"w", at::arange(6, at::kFloat).reshape({2, 3})}},
      {{"a", at::ones({4}, at::kHalf)}, {"b", at::zeros({2, 2}, at::kBFloat16)}, {"c", at::arange(3, at::kInt)}, {"d", at::ones({2, 1}, at::kChar)}},
      {{"scalar", at::ones({}, at::kFloat)}, {"empty", at::zeros({0, 5}, at::kFloat)}},
  };
  for (const auto& set : sets) {
    std::vector<SafetensorsEntry> entries;
    for (const auto& [name, tensor] : set) entries.push_back(safetensors_entry(name, tensor, tensor.scalar_type()));
    write_safetensors_file(path, entries, {{"format", "pt"}});
    seeds.push_back(read_file(path));
  }
  return seeds;
}

FuzzTarget safetensors_target(const TargetEnvironment& environment) {
  const fs::path file = environment.scratch / "model.safetensors";
  FuzzTarget target{"safetensors", file.string(), safetensors_seeds(environment.scratch), nullptr};
  target.run = [file](const std::string& input) {
    write_file(file, input);
    return outcome_of([&] {
      const auto reader = SafetensorsReader::open(file);
      // Reading every tensor exercises the byte ranges the header claims, not just the header.
      for (const auto& name : reader.names()) (void)reader.load(name, at::kFloat);
    });
  };
  return target;
}

FuzzTarget config_target(const TargetEnvironment& environment) {
  const fs::path file = environment.scratch / "config.json";
  FuzzTarget target{"config", file.string(), {}, nullptr};
  for (const auto& entry : fs::directory_iterator(environment.fixtures / "models"))
    if (fs::exists(entry.path() / "config.json")) target.seeds.push_back(read_file(entry.path() / "config.json"));
  target.run = [file](const std::string& input) {
    write_file(file, input);
    return outcome_of([&] { (void)LlamaConfig::load(file); });
  };
  return target;
}

// The registry outlives the targets that use it (discovered once: loading plugins is slow).
std::shared_ptr<host::PluginRegistry> built_plugins(const fs::path& plugin_dir) {
  static std::shared_ptr<host::PluginRegistry> registry;
  if (!registry)
    registry = std::make_shared<host::PluginRegistry>(host::PluginRegistry::discover(host::DiscoveryOptions::only({plugin_dir})));
  if (registry->plugins().empty()) throw std::runtime_error("fuzz: no plugins in '" + plugin_dir.string() + "'");
  return registry;
}

FuzzTarget space_target(const TargetEnvironment& environment) {
  const std::string owner = "fuzz-plugin";
  FuzzTarget target{"space", owner, {}, nullptr};
  for (const auto& plugin : built_plugins(environment.plugin_dir)->plugins()) target.seeds.push_back(plugin.space_json);
  target.run = [owner](const std::string& input) {
    return outcome_of([&] {
      const auto space = ParameterSpace::parse(input, owner);
      (void)space.resolve(nlohmann::json::object(), owner);  // defaults must resolve in a valid space
    });
  };
  return target;
}

FuzzTarget pipeline_target(const TargetEnvironment& environment) {
  const fs::path file = environment.scratch / "pipeline.json";
  FuzzTarget target{"pipeline", "", {}, nullptr};
  for (const auto& entry : fs::directory_iterator(environment.configs_dir))
    if (entry.path().extension() == ".json" && entry.path().filename().string().rfind("search-", 0) != 0)
      target.seeds.push_back(read_file(entry.path()));
  const auto registry = built_plugins(environment.plugin_dir);
  // A file error names the file; a step error names the step ("pipeline step 2 ..."); a shape error
  // speaks of the --pipeline argument as a whole ("pipeline: expected a non-empty JSON array ...").
  target.context = file.string() + "|pipeline step |pipeline: ";
  target.run = [file, registry](const std::string& input) {
    write_file(file, input);
    return outcome_of([&] { (void)host::resolve_pipeline(host::read_pipeline_json(file.string()), *registry); });
  };
  return target;
}

}  // namespace

std::vector<std::string> target_names() { return {"safetensors", "config", "space", "pipeline"}; }

FuzzTarget make_target(const std::string& name, const TargetEnvironment& environment) {
  if (name == "safetensors") return safetensors_target(environment);
  if (name == "config") return config_target(environment);
  if (name == "space") return space_target(environment);
  if (name == "pipeline") return pipeline_target(environment);
  throw std::invalid_argument("unknown fuzz target '" + name + "' (known: safetensors, config, space, pipeline)");
}

}  // namespace compactmind::fuzz
