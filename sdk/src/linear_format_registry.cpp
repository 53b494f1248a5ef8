// The process-wide registry of linear formats (linear_format.h), with the SDK's own two formats
// registered when it is first used.
#include "compactmind/linear_format.h"

#include "compactmind/log.h"

#include "builtin_linear_formats.h"

#include <map>
#include <mutex>
#include <stdexcept>

namespace compactmind {
namespace {

struct Registered {
  std::shared_ptr<const LinearFormat> format;
  std::string provider;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, Registered> formats;
};

// Never destroyed: formats made by plugins must not be destroyed after their library's statics at
// exit (the same reason plugin libraries stay loaded).
Registry& registry() {
  static Registry* instance = [] {
    auto* created = new Registry;
    for (auto& format : detail::builtin_linear_formats())
      created->formats.emplace(format->name(), Registered{format, "compactmind-sdk"});
    return created;
  }();
  return *instance;
}

}  // namespace

void register_linear_format(std::shared_ptr<const LinearFormat> format, const std::string& provider) {
  if (!format) throw std::invalid_argument("linear format from '" + provider + "' is null");
  const std::string name = format->name();
  if (name.empty()) throw std::invalid_argument("linear format from '" + provider + "' has an empty name");
  Registry& all = registry();
  std::lock_guard<std::mutex> lock(all.mutex);
  const auto found = all.formats.find(name);
  if (found != all.formats.end())
    throw std::invalid_argument("linear format '" + name + "' from '" + provider + "' is already registered by '" +
                                found->second.provider + "'");
  all.formats.emplace(name, Registered{std::move(format), provider});
}

bool register_linear_format_at_load(const std::function<std::shared_ptr<const LinearFormat>()>& make,
                                    const std::string& provider) noexcept {
  try {
    register_linear_format(make(), provider);
    return true;
  } catch (const std::exception& error) {
    log_error(std::string("cannot register a linear format: ") + error.what());
  } catch (...) {
    log_error("cannot register a linear format of '" + provider + "': unknown exception");
  }
  return false;
}

const LinearFormat* find_linear_format(const std::string& name) {
  Registry& all = registry();
  std::lock_guard<std::mutex> lock(all.mutex);
  const auto found = all.formats.find(name);
  return found == all.formats.end() ? nullptr : found->second.format.get();
}

std::vector<std::string> registered_linear_formats() {
  Registry& all = registry();
  std::lock_guard<std::mutex> lock(all.mutex);
  std::vector<std::string> names;
  for (const auto& [name, entry] : all.formats) names.push_back(name + " (" + entry.provider + ")");
  return names;
}

void record_format_provider(nlohmann::json& quantization_config, const std::string& provider) {
  quantization_config[kQuantizationConfigOwnKey]["format_provider"] = provider;
}

}  // namespace compactmind
