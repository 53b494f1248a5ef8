// `compactmind tools` and its `random-model` subcommand.
#include "compactmind/host/cli_checks.h"
#include "compactmind/host/command.h"
#include "compactmind/host/tools_command.h"
#include "compactmind/llama_config.h"
#include "compactmind/log.h"
#include "compactmind/random_model.h"
#include "compactmind/safetensors.h"
#include "compactmind/save_target.h"
#include "compactmind/tokenizer.h"

#include <chrono>
#include <map>
#include <memory>

namespace compactmind::host {
namespace fs = std::filesystem;

CLI::App& tools_command(CLI::App& app) {
  const auto existing = app.get_subcommands([](const CLI::App* sub) { return sub->get_name() == "tools"; });
  if (!existing.empty()) return *existing.front();
  CLI::App* tools = app.add_subcommand("tools", "Utilities: random checkpoints for tests and benchmarks, ...");
  tools->require_subcommand(1);
  return *tools;
}

namespace {

struct RandomModelArgs {
  std::string shape;
  std::string out;
  uint64_t seed = 0;
  std::string dtype = "float16";
  std::string tokenizer_from;
  double weight_std = 0.02;
  int threads = 0;
  bool overwrite = false;
  bool oversubscribe = false;
};

void run_random_model(const RandomModelArgs& args) {
  check_save_target(args.out, args.overwrite);
  const int threads = apply_threads(args.threads, args.oversubscribe);
  log_info("threads: " + std::to_string(threads));
  const LlamaConfig config = LlamaConfig::load(args.shape);

  static const std::map<std::string, at::ScalarType> kDtypes = {
      {"float16", at::kHalf}, {"bfloat16", at::kBFloat16}, {"float32", at::kFloat}};
  RandomModelOptions options;
  options.seed = args.seed;
  options.weight_std = args.weight_std;
  options.float_dtype = kDtypes.at(args.dtype);
  options.tokenizer_from = args.tokenizer_from;
  options.overwrite = args.overwrite;
  if (!options.tokenizer_from.empty()) {
    if (!fs::exists(options.tokenizer_from / "tokenizer.model"))
      throw std::runtime_error("--tokenizer-from '" + args.tokenizer_from + "' holds no tokenizer.model");
    // Token ids index the embedding: a larger tokenizer would make evaluation read past it.
    const int64_t pieces = Tokenizer::load(options.tokenizer_from).vocab_size();
    if (pieces > config.vocab_size)
      throw std::runtime_error("the tokenizer in '" + args.tokenizer_from + "' has " + std::to_string(pieces) +
                               " pieces, but '" + args.shape + "' gives vocab_size " +
                               std::to_string(config.vocab_size) + ": use a shape with vocab_size ≥ " +
                               std::to_string(pieces));
  }

  const auto start = std::chrono::steady_clock::now();
  write_random_llama_model(config, args.out, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Totals from the written headers: what is on disk, not what we meant to write.
  const SafetensorsReader written = SafetensorsReader::open(args.out);
  int64_t parameters = 0;
  uint64_t bytes = 0;
  for (const auto& name : written.names()) {
    const auto& info = written.info(name);
    parameters += c10::multiply_integers(info.shape);
    bytes += info.end - info.begin;
  }
  log_info("wrote '" + args.out + "': " + std::to_string(parameters) + " parameters, " + std::to_string(bytes) +
           " bytes as " + args.dtype + ", in " + std::to_string(seconds) + " s");
}

void setup_tools(CLI::App& app) {
  CLI::App& tools = tools_command(app);
  CLI::App* random = tools.add_subcommand(
      "random-model", "Write a LLaMA checkpoint with random weights (N(0, std²), norms 1) of any shape");
  auto args = std::make_shared<RandomModelArgs>();
  random->add_option("--shape", args->shape, "config.json (or a subset: the dims) giving the shape")
      ->required()
      ->check(CLI::ExistingFile);
  random->add_option("--out", args->out, "output model folder (written atomically)")->required();
  random->add_flag("--overwrite", args->overwrite,
                   "replace the model already in --out (never another kind of folder)");
  random->add_option("--seed", args->seed, "random seed")->capture_default_str();
  random->add_option("--dtype", args->dtype, "storage dtype of the weights")
      ->check(CLI::IsMember({"float16", "bfloat16", "float32"}))
      ->capture_default_str();
  random->add_option("--std", args->weight_std, "standard deviation of linear and embedding weights")
      ->capture_default_str();
  random->add_option("--tokenizer-from", args->tokenizer_from,
                     "copy tokenizer files from this model folder (so the model can be evaluated)")
      ->check(CLI::ExistingDirectory);
  add_thread_options(*random, args->threads, args->oversubscribe);
  random->callback([args] { run_random_model(*args); });
}

}  // namespace

COMPACTMIND_REGISTER_COMMAND(setup_tools);

}  // namespace compactmind::host
