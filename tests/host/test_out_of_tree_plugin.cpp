// The third-party path end to end: install this build into a temp prefix, build
// docs/examples/example-plugin as a fresh CMake project against that install (find_package), drop the
// result into a plugin folder, and check that the INSTALLED host lists it (not rebuilt) and that its
// apply runs through the host's registry on a hand-made model.
#include "test_helpers.h"
#include "support/run_host.h"
#include "support/temp_dir.h"

#include "compactmind/method_context.h"

#include <catch2/catch.hpp>

#include <algorithm>

namespace fs = std::filesystem;
using namespace compactmind::test;

namespace {

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

// Runs a build step with its output in `log`; on failure the log is shown.
void run_step(const std::string& what, const std::string& command, const fs::path& log) {
  const auto result = run_shell(command + " > " + quoted(log) + " 2>&1");
  if (result.exit_code != 0) {
    const auto shown = run_shell("tail -n 40 " + quoted(log));
    FAIL(what << " failed (exit " << result.exit_code << "): " << command << "\n" << shown.out);
  }
}

// Where the dynamic loader finds the SDK (its SONAME, e.g. libcompactmind_sdk.so.0.1) for `binary`
// (from ldd), canonical.
fs::path resolved_sdk(const fs::path& binary) {
  const std::string output = run_shell("ldd " + quoted(binary)).out;
  const std::string marker = CM_SDK_SONAME " => ";
  const size_t start = output.find(marker);
  if (start == std::string::npos) return {};
  const size_t path_start = start + marker.size();
  const fs::path path = output.substr(path_start, output.find(" (", path_start) - path_start);
  std::error_code error;
  return fs::canonical(path, error);
}

int64_t zeros_in(const compactmind::Linear& linear) { return (linear.dense_weight() == 0).sum().item<int64_t>(); }

}  // namespace

TEST_CASE("an out-of-tree plugin built against the installed SDK is listed by the installed host and applies",
          "[host][plugins][install]") {
  const fs::path root = fresh_temp_dir("out-of-tree");
  const fs::path prefix = root / "prefix";
  const fs::path source = root / "example-plugin";
  const fs::path build = root / "build";
  const fs::path plugins = root / "plugins";
  fs::create_directories(plugins);
  const std::string cmake = quoted(CM_CMAKE_COMMAND);

  run_step("cmake --install", cmake + " --install " + quoted(COMPACTMIND_BINARY_DIR) + " --prefix " + quoted(prefix),
           root / "install.log");
  fs::copy(fs::path(COMPACTMIND_SOURCE_DIR) / "docs/examples/example-plugin", source, fs::copy_options::recursive);
  run_step("configuring the example plugin",
           cmake + " -S " + quoted(source) + " -B " + quoted(build) + " -G " + quoted(CM_CMAKE_GENERATOR) +
               " -DCMAKE_MAKE_PROGRAM=" + quoted(CM_CMAKE_MAKE_PROGRAM) +
               " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + quoted(prefix),
           root / "configure.log");
  run_step("building the example plugin", cmake + " --build " + quoted(build), root / "build.log");
  const fs::path plugin = copy_into(build / "libcm-example-magnitude.so", plugins);

  // The installed host, run from the install prefix, with the example's folder first. Its RUNPATH
  // must find the installed SDK, not the build tree's.
  const fs::path host = prefix / "bin/compactmind";
  REQUIRE(fs::exists(host));
  const fs::path installed_sdk = fs::canonical(prefix / CM_INSTALL_LIBDIR / CM_SDK_SONAME);
  CHECK(resolved_sdk(host) == installed_sdk);
  for (const auto& builtin : fs::directory_iterator(prefix / CM_INSTALL_PLUGIN_DIR))
    CHECK(resolved_sdk(builtin.path()) == installed_sdk);
  const auto listed = run_shell("COMPACTMIND_PLUGIN_PATH= " + quoted(host) + " plugins --plugin-dir " +
                                  quoted(plugins) + " --json");
  REQUIRE(listed.exit_code == 0);
  const auto json = nlohmann::json::parse(listed.out);
  CHECK(json["search_path"][0] == plugins.string());
  // The installed layout's own plugin folder is found relative to the executable.
  CHECK(std::find(json["search_path"].begin(), json["search_path"].end(),
                  fs::weakly_canonical(prefix / CM_INSTALL_PLUGIN_DIR).string()) != json["search_path"].end());
  REQUIRE(json["plugins"].size() >= 1);
  const auto& example = json["plugins"][0];
  CHECK(example["name"] == "example-magnitude");
  CHECK(example["kind"] == "pruning");
  CHECK(example["version"] == "0.1.0");
  CHECK(example["file"] == plugin.string());
  CHECK(example["space"]["parameters"][0]["name"] == "sparsity");
  CHECK(example["space"]["parameters"][1]["choices"] == nlohmann::json{"layer", "row"});

  // Its apply, through the host's registry (the `run` command is not there yet): half of every
  // linear's weights become zero.
  const auto registry = compactmind::host::PluginRegistry::discover(compactmind::host::DiscoveryOptions::only({plugins}));
  REQUIRE(registry.rejections().empty());
  compactmind::LlamaModel model = tiny_model();
  compactmind::MethodContext context;
  registry.apply("example-magnitude", model, {{"sparsity", 0.5}}, context);
  const auto& layer = model.layers[0];
  CHECK(zeros_in(*layer.q_proj) == 32);    // 8×8
  CHECK(zeros_in(*layer.down_proj) == 64); // 8×16
  compactmind::LlamaModel fresh = tiny_model();
  registry.apply("example-magnitude", fresh, {{"sparsity", 0.75}, {"scope", "row"}}, context);
  CHECK(zeros_in(*fresh.layers[0].gate_proj) == 16 * 6);  // 6 of 8 in each of the 16 rows
}
