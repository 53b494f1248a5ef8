#include "test_helpers.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <sys/wait.h>

namespace compactmind::test {
namespace fs = std::filesystem;

namespace {

// Removes every folder fresh_temp_dir made when the test program exits. Deleting a loaded plugin's
// file is safe on Linux (the mapping stays), and the libraries are never unloaded anyway.
struct TempDirs {
  std::vector<fs::path> dirs;
  ~TempDirs() {
    for (const auto& dir : dirs) {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  }
};

TempDirs& temp_dirs() {
  static TempDirs instance;
  return instance;
}

}  // namespace

fs::path fresh_temp_dir(const std::string& tag) {
  std::string pattern = (fs::temp_directory_path() / ("cm-test-" + tag + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  temp_dirs().dirs.push_back(pattern);
  return pattern;
}

fs::path copy_into(const fs::path& file, const fs::path& dir) {
  const fs::path target = dir / file.filename();
  fs::copy_file(file, target, fs::copy_options::overwrite_existing);
  return target;
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

LlamaModel tiny_model() {
  at::manual_seed(7);
  LlamaModel model;
  constexpr int64_t kHidden = 8, kMlp = 16;
  DecoderLayer layer;
  layer.q_proj = std::make_unique<TestLinear>(at::randn({kHidden, kHidden}));
  layer.k_proj = std::make_unique<TestLinear>(at::randn({kHidden, kHidden}));
  layer.v_proj = std::make_unique<TestLinear>(at::randn({kHidden, kHidden}));
  layer.o_proj = std::make_unique<TestLinear>(at::randn({kHidden, kHidden}));
  layer.gate_proj = std::make_unique<TestLinear>(at::randn({kMlp, kHidden}));
  layer.up_proj = std::make_unique<TestLinear>(at::randn({kMlp, kHidden}));
  layer.down_proj = std::make_unique<TestLinear>(at::randn({kHidden, kMlp}));
  layer.input_layernorm = at::ones({kHidden});
  layer.post_attention_layernorm = at::ones({kHidden});
  model.layers.push_back(std::move(layer));
  model.norm = at::ones({kHidden});
  return model;
}

}  // namespace compactmind::test
