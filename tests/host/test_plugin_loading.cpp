// Loading real plugin libraries, good and deliberately broken (tests/host/plugins/), through the
// host's registry, and the exact rejection messages (file, plugin, reason, both versions).
#include "test_helpers.h"
#include "support/run_host.h"
#include "support/temp_dir.h"

#include "compactmind/method_context.h"
#include "compactmind/version.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;
using compactmind::host::DiscoveryOptions;
using compactmind::host::PluginRegistry;
using namespace compactmind::test;

namespace {

const fs::path kTestPlugins = CM_TEST_PLUGIN_DIR;

fs::path plugin_file(const std::string& name) { return kTestPlugins / ("libcm-" + name + ".so"); }

// A temp folder holding copies of the named test plugins.
fs::path folder_with(const std::string& tag, const std::vector<std::string>& plugins) {
  const fs::path dir = fresh_temp_dir(tag);
  for (const auto& name : plugins) copy_into(plugin_file(name), dir);
  return dir;
}

struct Rejection {
  std::string file;  // the broken plugin's path, as the message must name it
  std::string message;
};

// Loads a folder holding the good plugin and one broken one; the broken one must be the only
// rejection, and the good one must still be loaded.
Rejection rejection_of(const std::string& broken) {
  const fs::path dir = folder_with(broken, {"test-good", broken});
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({dir}));
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.plugins()[0].name == "test-good");
  REQUIRE(registry.rejections().size() == 1);
  const fs::path file = dir / ("libcm-" + broken + ".so");
  CHECK(registry.rejections()[0].file == file);
  return {file.string(), registry.rejections()[0].message};
}

// MAJOR, or 0.MINOR while the major is 0 (docs/abi.md).
std::string host_series() {
  return COMPACTMIND_SDK_VERSION_MAJOR == 0 ? "0." + std::to_string(COMPACTMIND_SDK_VERSION_MINOR)
                                            : std::to_string(COMPACTMIND_SDK_VERSION_MAJOR);
}

const std::string kRebuild = " — rebuild it against compactmind-sdk " COMPACTMIND_SDK_VERSION;

}  // namespace

TEST_CASE("the good plugin loads with its descriptor and parsed space", "[host][plugins]") {
  const fs::path dir = folder_with("good", {"test-good"});
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({dir}));
  REQUIRE(registry.rejections().empty());
  REQUIRE(registry.plugins().size() == 1);
  const auto& plugin = registry.plugins()[0];
  CHECK(plugin.name == "test-good");
  CHECK(plugin.version == "1.2.0");
  CHECK(plugin.kind == compactmind::PluginKind::kOther);
  CHECK(compactmind::to_string(plugin.kind) == "other");
  CHECK(plugin.description == "Test plugin: scales the final norm weight");
  CHECK(plugin.file == dir / "libcm-test-good.so");
  CHECK(plugin.sdk_version == COMPACTMIND_SDK_VERSION);
  CHECK(plugin.torch_version == COMPACTMIND_TORCH_VERSION);
  REQUIRE(plugin.space.parameters.size() == 4);
  const auto* scale = plugin.space.find("scale");
  REQUIRE(scale != nullptr);
  CHECK(scale->low == 0.1);
  CHECK(scale->high == 10.0);
  CHECK(scale->log_scale);
  CHECK(scale->default_value == 2.0);
  CHECK(plugin.space.find("mode")->choices == std::vector<std::string>{"multiply", "add"});
  CHECK_FALSE(plugin.space.find("fail")->tunable);
  CHECK(registry.search_path() == std::vector<fs::path>{dir});
  CHECK(registry.find("test-good") == &plugin);
  CHECK(registry.find("nope") == nullptr);
  CHECK_THROWS_WITH(registry.get("nope"), "no plugin named 'nope' (loaded: test-good) — see `compactmind plugins`");
}

TEST_CASE("apply runs the plugin's method with resolved parameters", "[host][plugins]") {
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({folder_with("apply", {"test-good"})}));
  compactmind::LlamaModel model = tiny_model();
  compactmind::MethodContext context;
  // scale 3, twice: the norm of ones becomes 9; "mode" and "fail" come from the defaults.
  registry.apply("test-good", model, {{"scale", 3.0}, {"repeat", 2}}, context);
  CHECK(at::allclose(model.norm, at::full({8}, 9.0)));
  registry.apply("test-good", model, {{"mode", "add"}, {"scale", 0.5}}, context);
  CHECK(at::allclose(model.norm, at::full({8}, 9.5)));
}

TEST_CASE("an exception thrown inside apply comes back as the plugin's failure message", "[host][plugins]") {
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({folder_with("apply-throws", {"test-good"})}));
  compactmind::LlamaModel model = tiny_model();
  compactmind::MethodContext context;
  CHECK_THROWS_WITH(registry.apply("test-good", model, {{"fail", true}, {"scale", 3.0}}, context),
                    "plugin 'test-good' failed: asked to fail (scale 3.000000)");
  // The model is untouched and the plugin still usable after a failure.
  CHECK(at::allclose(model.norm, at::ones({8})));
  registry.apply("test-good", model, {}, context);
  CHECK(at::allclose(model.norm, at::full({8}, 2.0)));
}

TEST_CASE("apply checks parameters against the declared space before calling the plugin", "[host][plugins]") {
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({folder_with("apply-params", {"test-good"})}));
  compactmind::LlamaModel model = tiny_model();
  compactmind::MethodContext context;
  CHECK_THROWS_WITH(registry.apply("test-good", model, {{"scale", 100.0}}, context),
                    "plugin 'test-good': parameter 'scale': 100.0 is outside [0.1, 10.0]");
  CHECK_THROWS_WITH(registry.apply("test-good", model, {{"alpha", 1}}, context),
                    "plugin 'test-good': unknown parameter 'alpha' (declared: scale, repeat, mode, fail)");
  CHECK(at::allclose(model.norm, at::ones({8})));
}

TEST_CASE("CM_DESCRIPTOR_HAS gates fields by the plugin's struct_size", "[host][plugins][abi]") {
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({folder_with("struct-size", {"test-good"})}));
  const cm_plugin_descriptor& built = *registry.plugins()[0].descriptor;
  CHECK(built.struct_size == sizeof(cm_plugin_descriptor));
  CHECK(CM_DESCRIPTOR_HAS(&built, get_space_json));
  CHECK(built.unused_abi1_space_json == nullptr);
  // ABI 1's descriptor ended where ABI 2's get_space_json begins.
  cm_plugin_descriptor abi1_sized = built;
  abi1_sized.struct_size = 96;
  CHECK(CM_DESCRIPTOR_HAS(&abi1_sized, apply));
  CHECK_FALSE(CM_DESCRIPTOR_HAS(&abi1_sized, get_space_json));
  // A descriptor from a build that ended before `apply` (as an older plugin ends before fields
  // appended later) must not be read past its end.
  cm_plugin_descriptor shorter = built;
  shorter.struct_size = offsetof(cm_plugin_descriptor, apply);
  CHECK(CM_DESCRIPTOR_HAS(&shorter, destroy_method));
  CHECK_FALSE(CM_DESCRIPTOR_HAS(&shorter, apply));
}

// The descriptor is constexpr in the SDK's macro: the loader relocates it into RELRO memory, which is
// read-only by the time anyone reads it. A descriptor made by code at run time would sit in writable
// memory (a function-local static, as ABI 1's macro had it).
TEST_CASE("the SDK's descriptor is constant data, not made by code", "[host][plugins][abi]") {
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({folder_with("constant", {"test-good"})}));
  const auto address = reinterpret_cast<uintptr_t>(registry.plugins()[0].descriptor);
  std::ifstream maps("/proc/self/maps");
  std::string line, permissions;
  while (std::getline(maps, line)) {
    uintptr_t begin = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &begin, &end, perms) == 3 && address >= begin && address < end)
      permissions = perms;
  }
  CHECK(permissions == "r--p");
}

TEST_CASE("a plugin built for ABI 1 is rejected by name before anything of it runs", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-abi1");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' (old-abi 0.9) rejected: built for plugin ABI 1, this host speaks ABI 2" +
                                 kRebuild);
}

TEST_CASE("wrong ABI version is rejected with both versions", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-wrong-abi");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' (future-abi 0.3) rejected: built for plugin ABI 3, this host speaks ABI 2" +
                                 kRebuild);
}

TEST_CASE("another SDK series is rejected with both versions", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-sdk-major");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' (sdk-major 0.3) rejected: built against compactmind-sdk 7.0.0, this host is "
                                 "compactmind-sdk " COMPACTMIND_SDK_VERSION " (plugins must come from its " +
                                 host_series() + ".x series)" +
                                 kRebuild);
}

TEST_CASE("another LibTorch version is rejected with both versions", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-old-torch");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' (old-torch 0.3) rejected: built with LibTorch 1.12.1, this host uses "
                                 "LibTorch " COMPACTMIND_TORCH_VERSION
                                 " (LibTorch has no C++ ABI guarantee across versions) — rebuild it against "
                                 "LibTorch " COMPACTMIND_TORCH_VERSION);
}

TEST_CASE("a plugin built with the other C++ ABI is rejected with both settings", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-old-cxx-abi");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' (old-cxx-abi 0.3) rejected: built with _GLIBCXX_USE_CXX11_ABI=0, this host "
                                 "uses _GLIBCXX_USE_CXX11_ABI=1 (std::string and std::list differ between the "
                                 "two) — rebuild it with the host's setting");
}

TEST_CASE("a library without the entry point is rejected", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-no-entry-point");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' rejected: missing entry point 'cm_plugin_get_descriptor' (a plugin exports "
                                 "it with one COMPACTMIND_PLUGIN(...) line, docs/plugin-authoring.md)");
}

TEST_CASE("a library with an unresolved symbol is rejected naming the function", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-undefined-symbol");
  CHECK(rejection.message == "plugin '" + rejection.file + "' rejected: cannot be loaded: " + rejection.file +
                                 ": undefined symbol: compactmind::function_from_a_newer_sdk() "
                                 "(_ZN11compactmind25function_from_a_newer_sdkEv)");
}

TEST_CASE("a file named like a plugin that is not a shared library is rejected", "[host][plugins][rejection]") {
  const fs::path dir = folder_with("not-a-library", {"test-good"});
  const fs::path text_file = dir / "libcm-x.so";
  std::ofstream(text_file) << "this is a text file, not a shared library\n";
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({dir}));
  REQUIRE(registry.plugins().size() == 1);
  REQUIRE(registry.rejections().size() == 1);
  CHECK(registry.rejections()[0].message ==
        "plugin '" + text_file.string() + "' rejected: not a shared library (no ELF header)");
}

TEST_CASE("invalid space JSON is rejected quoting the parser", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-bad-json");
  const std::string expected_start =
      "plugin '" + rejection.file + "' (bad-json 0.3) rejected: invalid parameter space: space is not valid JSON: ";
  CHECK(rejection.message.substr(0, expected_start.size()) == expected_start);
  CHECK_THAT(rejection.message, Catch::Contains("parse error"));
}

// Before the host and the SDK shared one validator, the host's parser turned this step of 0 into 1.
TEST_CASE("a space the SDK would refuse is refused by the host with the SDK's message", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-zero-step");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' (zero-step 0.3) rejected: invalid parameter space: space parameter 'n': step "
                                 "must be positive, got 0");
}

TEST_CASE("a space that fails the SDK's validation is rejected with its reason", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-bad-space");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' (bad-space 1.0) rejected: declaring its parameter space failed: space "
                                 "parameter 'alpha': default 2.0 is outside [0.0, 1.0]");
}

TEST_CASE("a throwing factory is rejected quoting the exception", "[host][plugins][rejection]") {
  const auto rejection = rejection_of("test-throwing-factory");
  CHECK(rejection.message == "plugin '" + rejection.file +
                                 "' (throwing-factory 1.0) rejected: its factory failed: cannot allocate the "
                                 "workspace");
}

TEST_CASE("a duplicate name is rejected, the first plugin found wins", "[host][plugins][rejection]") {
  // Two folders: the first one's plugin wins whatever the file names.
  const fs::path first = folder_with("duplicate-first", {"test-duplicate"});
  const fs::path second = folder_with("duplicate-second", {"test-good"});
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({first, second}));
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.plugins()[0].file == first / "libcm-test-duplicate.so");
  REQUIRE(registry.rejections().size() == 1);
  const fs::path loser = second / "libcm-test-good.so";
  CHECK(registry.rejections()[0].message ==
        "plugin '" + loser.string() + "' (test-good 1.2.0) rejected: duplicate plugin name 'test-good', already "
        "loaded from '" + (first / "libcm-test-duplicate.so").string() +
        "' (test-good 1.2.0) — the first one found wins; remove one or reorder the plugin folders");
  CHECK(registry.rejections()[0].plugin_name == "test-good");
}

TEST_CASE("every broken plugin together never stops the good one", "[host][plugins][rejection]") {
  const std::vector<std::string> broken = {"test-abi1", "test-wrong-abi", "test-sdk-major",  "test-old-torch",
                                           "test-old-cxx-abi", "test-no-entry-point", "test-undefined-symbol", "test-bad-json",
                                           "test-zero-step", "test-bad-space", "test-throwing-factory"};
  std::vector<std::string> all = broken;
  all.push_back("test-good");
  const auto registry = PluginRegistry::discover(DiscoveryOptions::only({folder_with("all", all)}));
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.rejections().size() == broken.size());
  compactmind::LlamaModel model = tiny_model();
  compactmind::MethodContext context;
  registry.apply("test-good", model, {}, context);
  CHECK(at::allclose(model.norm, at::full({8}, 2.0)));
}

TEST_CASE("discovery order: --plugin-dir, then COMPACTMIND_PLUGIN_PATH", "[host][plugins][discovery]") {
  const fs::path explicit_dir = folder_with("order-explicit", {"test-duplicate"});
  const fs::path env_dir = folder_with("order-env", {"test-good"});
  const fs::path empty_dir = fresh_temp_dir("order-empty");
  const std::string env = empty_dir.string() + ":" + env_dir.string() + ":/does/not/exist";
  setenv("COMPACTMIND_PLUGIN_PATH", env.c_str(), 1);
  compactmind::host::DiscoveryOptions options;
  options.plugin_dirs = {explicit_dir};
  options.use_default_dirs = false;
  const auto registry = PluginRegistry::discover(options);
  unsetenv("COMPACTMIND_PLUGIN_PATH");
  // Missing folders from the environment are skipped, the explicit folder comes first.
  CHECK(registry.search_path() == std::vector<fs::path>{explicit_dir, empty_dir, env_dir});
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.plugins()[0].file == explicit_dir / "libcm-test-duplicate.so");
  CHECK(registry.rejections().size() == 1);
}

TEST_CASE("a --plugin-dir that does not exist is an error", "[host][plugins][discovery]") {
  const fs::path missing = fresh_temp_dir("missing") / "nope";
  CHECK_THROWS_WITH(PluginRegistry::discover(DiscoveryOptions::only({missing})),
                    "plugin folder '" + missing.string() + "' (from --plugin-dir) does not exist");
}

TEST_CASE("only files named libcm-*.so are considered", "[host][plugins][discovery]") {
  const fs::path dir = folder_with("naming", {"test-good"});
  fs::copy_file(plugin_file("test-good"), dir / "cm-test-good.so");
  fs::copy_file(plugin_file("test-good"), dir / "libcm-test-good.so.1");
  std::ofstream(dir / "README.md") << "not a plugin\n";
  CHECK(compactmind::host::plugin_files_in(dir) == std::vector<fs::path>{dir / "libcm-test-good.so"});
}

TEST_CASE("`compactmind plugins --json` lists plugins with their space and rejections", "[host][plugins][cli]") {
  const fs::path dir = folder_with("cli", {"test-good", "test-old-torch"});
  const auto result = run_host({"plugins", "--plugin-dir", dir.string(), "--json"}, "COMPACTMIND_PLUGIN_PATH=");
  REQUIRE(result.exit_code == 0);
  const auto json = nlohmann::json::parse(result.out);
  CHECK(json["search_path"][0] == dir.string());
  // The good one plus whatever the build tree's own plugin folder holds; never the broken one.
  const auto& plugins = json["plugins"];
  REQUIRE(plugins.size() >= 1);
  CHECK(plugins[0]["name"] == "test-good");
  CHECK(plugins[0]["kind"] == "other");
  CHECK(plugins[0]["version"] == "1.2.0");
  CHECK(plugins[0]["file"] == (dir / "libcm-test-good.so").string());
  CHECK(plugins[0]["description"] == "Test plugin: scales the final norm weight");
  CHECK(plugins[0]["space"]["parameters"][0]["name"] == "scale");
  CHECK(plugins[0]["space"]["parameters"][0]["log"] == true);
  // The test folder comes first, so its rejection is listed first (the build tree's folder may follow).
  REQUIRE(json["rejected"].size() >= 1);
  CHECK(json["rejected"][0]["file"] == (dir / "libcm-test-old-torch.so").string());
  CHECK(json["rejected"][0]["plugin"] == "old-torch");
  CHECK_THAT(json["rejected"][0]["message"].get<std::string>(), Catch::Contains("built with LibTorch 1.12.1"));
}

TEST_CASE("`compactmind plugins` prints a table of each plugin's space", "[host][plugins][cli]") {
  const fs::path dir = folder_with("cli-text", {"test-good", "test-bad-space"});
  const auto result = run_host({"plugins", "--plugin-dir", dir.string()}, "COMPACTMIND_PLUGIN_PATH=");
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("test-good 1.2.0 (other)\n"
                                            "  Test plugin: scales the final norm weight\n"
                                            "  file: " + (dir / "libcm-test-good.so").string() + "\n"));
  CHECK_THAT(result.out, Catch::Contains("  parameter  type         values           default   scale   step  tuned  applies when\n"
                                            "  scale      float        [0.1, 10]        2.0       log     -     yes    -\n"));
  CHECK_THAT(result.out, Catch::Contains("rejected:\n  plugin '" + (dir / "libcm-test-bad-space.so").string()));
}
