// The data and runtime options `compactmind run` and `compactmind search` share: which model, which
// texts for evaluation, calibration and training, the evaluation protocol (seqlen, windows, batch),
// threads, seed and plugin folders; and the defaults taken from the fixtures folder, so that
// `compactmind search` with no flag runs on the fixture model (docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace compactmind::host {

struct DataOptions {
  std::string model_dir;      // empty: the fixtures' models/tiny-llama2 (search only)
  std::string tokenizer = "auto";  // auto | sentencepiece | tokenizer.json (parse_tokenizer_kind)
  std::string data;           // evaluation text; empty: fixtures' wikitext-2 test.txt
  int64_t seqlen = 128;       // tokens per evaluation window
  int64_t max_windows = -1;   // < 0: all windows
  int64_t batch = 0;          // windows per forward pass; 0: max(1, 2048 / seqlen)
  std::string calib_data;     // empty: fixtures' wikitext-2 valid.txt
  int64_t calib_samples = 16; // calibration windows
  int64_t calib_seqlen = 0;   // 0: same as seqlen
  std::string train_data;     // empty: fixtures' wikitext-2 valid.txt
  int threads = 0;            // 0: every available core (capped there unless oversubscribe; cli_checks.h)
  bool oversubscribe = false;
  uint64_t seed = 0;
  std::vector<std::string> plugin_dirs;
};

// $COMPACTMIND_FIXTURES when set, else the source tree's ../shared/fixtures (compile definition).
std::filesystem::path fixtures_dir();

// Adds --tokenizer, --data, --seqlen, --max-windows, --batch, --calib-data, --calib-samples, --calib-seqlen,
// --train-data, --threads, --oversubscribe, --seed and --plugin-dir to `command`. `underscore_aliases` also accepts the
// report's spellings (--calib_data, --max_windows, ...). --model is added by each command (run needs
// it, search defaults it).
void add_data_options(CLI::App& command, DataOptions& options, bool underscore_aliases);

// --tokenizer auto|sentencepiece|tokenizer.json (also used by eval and generate).
void add_tokenizer_option(CLI::App& command, std::string& tokenizer);

// Fills the empty paths with the fixtures' defaults and checks that every file exists; throws
// std::runtime_error naming the option and the file.
void resolve_data_defaults(DataOptions& options, bool default_model);

}  // namespace compactmind::host
