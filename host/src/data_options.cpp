// Shared data options of `run` and `search`, and the fixtures' defaults (data_options.h).
#include "compactmind/host/data_options.h"

#include "compactmind/host/cli_checks.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace compactmind::host {
namespace fs = std::filesystem;
namespace {

// CLI11 names: "--max-windows" or, with the report's spellings, "--max-windows,--max_windows".
std::string names(const std::string& dashed, bool underscore_aliases) {
  if (!underscore_aliases || dashed.find('-', 2) == std::string::npos) return dashed;
  std::string underscored = dashed;
  for (size_t i = 2; i < underscored.size(); ++i)
    if (underscored[i] == '-') underscored[i] = '_';
  return dashed + "," + underscored;
}

// With error codes: a symlink loop or a permission gives its reason, not a raw filesystem_error.
void require_file(const std::string& option, const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) throw std::runtime_error(option + " '" + path + "': no such file");
  if (error) throw std::runtime_error(option + " '" + path + "': " + error.message());
  if (!fs::is_regular_file(status))
    throw std::runtime_error(option + " '" + path + "': not a regular file (a folder, FIFO or device)");
}

}  // namespace

fs::path fixtures_dir() {
  if (const char* dir = std::getenv("COMPACTMIND_FIXTURES"); dir != nullptr && *dir != '\0') return dir;
  return COMPACTMIND_DEFAULT_FIXTURES_DIR;
}

void add_tokenizer_option(CLI::App& command, std::string& tokenizer) {
  command.add_option("--tokenizer", tokenizer,
                     "auto (tokenizer.model if the model folder has one, else tokenizer.json), sentencepiece or "
                     "tokenizer.json (default auto)")
      ->check(CLI::IsMember({"auto", "sentencepiece", "tokenizer.json"}));
}

void add_data_options(CLI::App& command, DataOptions& options, bool underscore_aliases) {
  const auto name = [underscore_aliases](const std::string& dashed) { return names(dashed, underscore_aliases); };
  add_tokenizer_option(command, options.tokenizer);
  command.add_option("--data", options.data, "evaluation text (default: the fixtures' wikitext-2 test.txt)");
  command.add_option("--seqlen", options.seqlen, "tokens per evaluation window (default 128)")
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  command.add_option(name("--max-windows"), options.max_windows, "evaluate at most this many windows (default all)")
      ->check(positive_count("omit it to evaluate every window"));
  command.add_option("--batch", options.batch, "windows per forward pass (default: max(1, 2048 / seqlen))")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
  command.add_option(name("--calib-data"), options.calib_data,
                     "calibration text (default: the fixtures' wikitext-2 valid.txt)");
  command.add_option(name("--calib-samples"), options.calib_samples, "calibration windows (default 16)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  command.add_option(name("--calib-seqlen"), options.calib_seqlen, "tokens per calibration window (default: --seqlen)")
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  command.add_option(name("--train-data"), options.train_data,
                     "training text for retraining steps (default: the fixtures' wikitext-2 valid.txt)");
  add_thread_options(command, options.threads, options.oversubscribe);
  command.add_option("--seed", options.seed, "seed of every random choice (default 0)");
  command.add_option(name("--plugin-dir"), options.plugin_dirs,
                     "search this plugin folder first (repeatable; then $COMPACTMIND_PLUGIN_PATH, then the defaults)");
}

void resolve_data_defaults(DataOptions& options, bool default_model) {
  const fs::path fixtures = fixtures_dir();
  const fs::path wikitext = fixtures / "data" / "wikitext-2";
  if (options.model_dir.empty() && default_model) options.model_dir = (fixtures / "models" / "tiny-llama2").string();
  if (options.data.empty()) options.data = (wikitext / "test.txt").string();
  if (options.calib_data.empty()) options.calib_data = (wikitext / "valid.txt").string();
  if (options.train_data.empty()) options.train_data = (wikitext / "valid.txt").string();
  if (options.calib_seqlen == 0) options.calib_seqlen = options.seqlen;
  // About 2048 tokens per forward pass: small windows batched enough to keep the GEMMs efficient
  // (measured: 4× the tokens/s of batch 1 at seqlen 128), long windows one at a time to bound the
  // logits' memory (batch × seqlen × vocab floats). The batch never changes the PPL.
  if (options.batch == 0) options.batch = std::max<int64_t>(1, 2048 / options.seqlen);
  std::error_code error;
  const fs::file_status model_status = fs::status(options.model_dir, error);
  if (error && model_status.type() != fs::file_type::not_found)
    throw std::runtime_error("--model '" + options.model_dir + "': " + error.message());
  if (!fs::is_directory(model_status))
    throw std::runtime_error("--model '" + options.model_dir + "': " +
                             (fs::exists(model_status) ? "not a folder" : "no such folder") +
                             (default_model ? " (the default model, from the fixtures folder " + fixtures.string() +
                                                  "; set COMPACTMIND_FIXTURES or pass --model)"
                                            : ""));
  require_file("--data", options.data);
  require_file("--calib-data", options.calib_data);
  require_file("--train-data", options.train_data);
}

}  // namespace compactmind::host
