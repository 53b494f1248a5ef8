// The registry: the plugins found on the search path (first of a name wins), the rejected files, and
// the one way the host runs a plugin (apply: create → apply → destroy, all on the plugin's side).
#include "compactmind/host/plugin_registry.h"

#include "compactmind/log.h"

#include <stdexcept>

namespace compactmind::host {

PluginRegistry PluginRegistry::discover(const DiscoveryOptions& options) {
  PluginRegistry registry;
  registry.search_path_ = plugin_search_path(options);
  for (const auto& dir : registry.search_path_) {
    log_debug("plugins: looking in " + dir.string());
    for (const auto& file : plugin_files_in(dir)) {
      log_debug("plugins: loading " + file.string());
      registry.add_file(file);
    }
  }
  return registry;
}

const PluginInfo* PluginRegistry::add_file(const std::filesystem::path& file) {
  auto loaded = load_plugin(file);
  if (auto* rejection = std::get_if<PluginRejection>(&loaded)) {
    rejections_.push_back(std::move(*rejection));
    return nullptr;
  }
  auto& info = std::get<PluginInfo>(loaded);
  if (const PluginInfo* first = find(info.name)) {
    rejections_.push_back(
        {file, "plugin '" + file.string() + "' (" + info.name + " " + info.version +
                   ") rejected: duplicate plugin name '" + info.name + "', already loaded from '" +
                   first->file.string() + "' (" + first->name + " " + first->version +
                   ") — the first one found wins; remove one or reorder the plugin folders",
         info.name});
    return nullptr;
  }
  plugins_.push_back(std::move(info));
  return &plugins_.back();
}

const PluginInfo* PluginRegistry::find(const std::string& name) const {
  for (const auto& plugin : plugins_)
    if (plugin.name == name) return &plugin;
  return nullptr;
}

const PluginInfo& PluginRegistry::get(const std::string& name) const {
  if (const PluginInfo* plugin = find(name)) return *plugin;
  std::string known;
  for (const auto& plugin : plugins_) known += (known.empty() ? "" : ", ") + plugin.name;
  std::string message = "no plugin named '" + name + "' (loaded: " + (known.empty() ? "none" : known) + ")";
  for (const auto& rejection : rejections_)
    if (rejection.plugin_name == name)
      message += "; " + rejection.message;  // the user most likely wants to know why it is missing
  throw std::runtime_error(message + " — see `compactmind plugins`");
}

void PluginRegistry::apply(const std::string& name, LlamaModel& model, const nlohmann::json& params,
                           MethodContext& context) const {
  const PluginInfo& plugin = get(name);
  // Resolving again is idempotent for already-resolved values and guarantees the plugin's contract:
  // every applicable declared parameter present, each within its bounds.
  // null (nothing given) means "all defaults".
  const nlohmann::json given = params.is_null() ? nlohmann::json::object() : params;
  const std::string params_json = plugin.space.resolve(given, "plugin '" + name + "'").dump();
  const cm_plugin_descriptor& descriptor = *plugin.descriptor;

  cm_method* method = nullptr;
  cm_status status = descriptor.create_method(&method);
  if (status.code != 0) throw std::runtime_error("plugin '" + name + "' failed: " + status.message);
  if (method == nullptr) throw std::runtime_error("plugin '" + name + "' failed: its factory returned no method");
  // The handles are the SDK's C++ objects; the fingerprint check at load time made that safe.
  status = descriptor.apply(method, reinterpret_cast<cm_model*>(&model), params_json.c_str(),
                            reinterpret_cast<cm_context*>(&context));
  descriptor.destroy_method(method);
  if (status.code != 0) throw std::runtime_error("plugin '" + name + "' failed: " + status.message);
}

}  // namespace compactmind::host
