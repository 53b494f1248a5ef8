// `compactmind plugins [--plugin-dir DIR]... [--json]`: every plugin found (name, kind, version, file,
// description, declared parameter space) and every rejected file with its reason (docs/cli.md).
#include "compactmind/host/command.h"
#include "compactmind/host/plugin_registry.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

namespace compactmind::host {
namespace {

struct PluginsOptions {
  std::vector<std::string> plugin_dirs;
  bool json = false;
};

std::string number_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

std::string values_text(const ParameterSpec& spec) {
  switch (spec.type) {
    case ParameterType::kBool: return "{false, true}";
    case ParameterType::kCategorical: {
      std::string text;
      for (const auto& choice : spec.choices) text += (text.empty() ? "" : ", ") + choice;
      return "{" + text + "}";
    }
    default: return "[" + number_text(spec.low) + ", " + number_text(spec.high) + "]";
  }
}

std::string condition_text(const ParameterSpec& spec) {
  return spec.condition ? spec.condition->parameter + " = " + spec.condition->equals.dump() : "-";
}

// Rows of cells printed with every column as wide as its widest cell.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t column = 0; column < row.size(); ++column) {
      if (widths.size() <= column) widths.push_back(0);
      widths[column] = std::max(widths[column], row[column].size());
    }
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t column = 0; column < row.size(); ++column)
      line += row[column] + (column + 1 < row.size() ? std::string(widths[column] - row[column].size() + 2, ' ') : "");
    out << line << "\n";
  }
}

void print_space(std::ostream& out, const ParameterSpace& space) {
  if (space.parameters.empty()) {
    out << "  parameters: none\n";
    return;
  }
  std::vector<std::vector<std::string>> rows = {
      {"parameter", "type", "values", "default", "scale", "step", "tuned", "applies when"}};
  for (const auto& spec : space.parameters) {
    const bool numeric = spec.type == ParameterType::kFloat || spec.type == ParameterType::kInt;
    rows.push_back({spec.name, to_string(spec.type), values_text(spec),
                    spec.default_value.is_string() ? spec.default_value.get<std::string>() : spec.default_value.dump(),
                    numeric ? (spec.log_scale ? "log" : "linear") : "-",
                    numeric && spec.step > 0 ? number_text(spec.step) : "-", spec.tunable ? "yes" : "no",
                    condition_text(spec)});
  }
  print_table(out, rows, "  ");
}

void print_text(std::ostream& out, const PluginRegistry& registry) {
  out << "Plugin folders, searched in this order:\n";
  if (registry.search_path().empty()) out << "  (none exist)\n";
  for (const auto& dir : registry.search_path()) out << "  " << dir.string() << "\n";
  for (const auto& plugin : registry.plugins()) {
    out << "\n" << plugin.name << " " << plugin.version << " (" << to_string(plugin.kind) << ")\n"
        << "  " << plugin.description << "\n"
        << "  file: " << plugin.file.string() << "\n";
    print_space(out, plugin.space);
  }
  out << "\n" << registry.plugins().size() << (registry.plugins().size() == 1 ? " plugin" : " plugins")
      << " loaded, " << registry.rejections().size()
      << (registry.rejections().size() == 1 ? " file" : " files") << " rejected"
      << (registry.rejections().empty() ? "" : ":") << "\n";
  for (const auto& rejection : registry.rejections()) out << "  " << rejection.message << "\n";
}

nlohmann::json to_json(const PluginRegistry& registry) {
  nlohmann::json root = {{"search_path", nlohmann::json::array()},
                         {"plugins", nlohmann::json::array()},
                         {"rejected", nlohmann::json::array()}};
  for (const auto& dir : registry.search_path()) root["search_path"].push_back(dir.string());
  for (const auto& plugin : registry.plugins())
    root["plugins"].push_back({{"name", plugin.name},
                               {"version", plugin.version},
                               {"kind", to_string(plugin.kind)},
                               {"description", plugin.description},
                               {"file", plugin.file.string()},
                               {"sdk_version", plugin.sdk_version},
                               {"torch_version", plugin.torch_version},
                               {"cxx11_abi", plugin.cxx11_abi},
                               {"space", nlohmann::json::parse(plugin.space_json)}});
  for (const auto& rejection : registry.rejections())
    root["rejected"].push_back({{"file", rejection.file.string()},
                                {"plugin", rejection.plugin_name.empty() ? nlohmann::json(nullptr)
                                                                         : nlohmann::json(rejection.plugin_name)},
                                {"message", rejection.message}});
  return root;
}

void setup_plugins_command(CLI::App& app) {
  auto options = std::make_shared<PluginsOptions>();
  CLI::App* command = app.add_subcommand(
      "plugins", "List the method plugins found (name, kind, version, file, parameter space) and the rejected files");
  command->add_option("--plugin-dir", options->plugin_dirs,
                      "Search this folder first (repeatable; then $COMPACTMIND_PLUGIN_PATH, then the defaults)");
  command->add_flag("--json", options->json, "Print JSON on stdout instead of a table");
  command->callback([options] {
    DiscoveryOptions discovery;
    discovery.plugin_dirs.assign(options->plugin_dirs.begin(), options->plugin_dirs.end());
    const PluginRegistry registry = PluginRegistry::discover(discovery);
    if (options->json)
      // replace: a plugin's failure message (from its what()) is not guaranteed to be valid UTF-8.
      std::cout << to_json(registry).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    else
      print_text(std::cout, registry);
  });
}

}  // namespace

COMPACTMIND_REGISTER_COMMAND(setup_plugins_command);

}  // namespace compactmind::host
