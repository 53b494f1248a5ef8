// `compactmind generate`: greedy continuation of a prompt with the KV cache.
#include "compactmind/generation.h"
#include "compactmind/host/command.h"
#include "compactmind/host/data_options.h"
#include "compactmind/llama_model.h"
#include "compactmind/log.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

namespace compactmind::host {
namespace {

struct GenerateArguments {
  std::string model_dir;
  std::string tokenizer = "auto";
  std::string prompt;
  int64_t max_new_tokens = 32;
  int threads = 0;
};

void run_generate(const GenerateArguments& arguments) {
  const int threads = set_threads(arguments.threads);
  log_info("threads: " + std::to_string(threads));
  const LlamaModel model = LlamaModel::load(arguments.model_dir);
  const Tokenizer tokenizer = Tokenizer::load(arguments.model_dir, parse_tokenizer_kind(arguments.tokenizer));
  std::vector<int64_t> prompt_ids;
  if (tokenizer.add_bos_token()) prompt_ids.push_back(tokenizer.bos_id());
  const std::vector<int64_t> pieces = tokenizer.encode(arguments.prompt);
  prompt_ids.insert(prompt_ids.end(), pieces.begin(), pieces.end());

  GenerationOptions options;
  options.max_new_tokens = arguments.max_new_tokens;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int64_t> sequence = generate_greedy(model, prompt_ids, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Decode without the BOS: SentencePiece renders it as nothing anyway, but the text is the user's.
  const std::vector<int64_t> text_ids(sequence.begin() + (tokenizer.add_bos_token() ? 1 : 0), sequence.end());
  std::cout << tokenizer.decode(text_ids) << std::endl;
  const int64_t generated = static_cast<int64_t>(sequence.size() - prompt_ids.size());
  char line[160];
  std::snprintf(line, sizeof(line), "%lld new tokens in %.2f s (%.1f tokens/s)", static_cast<long long>(generated),
                seconds, seconds > 0 ? generated / seconds : 0.0);
  log_info(line);
}

void setup_generate(CLI::App& app) {
  auto arguments = std::make_shared<GenerateArguments>();
  CLI::App* command = app.add_subcommand("generate", "Greedy text continuation of a prompt");
  command->add_option("--model", arguments->model_dir, "Hugging Face LLaMA checkpoint folder")
      ->required()->check(CLI::ExistingDirectory);
  add_tokenizer_option(*command, arguments->tokenizer);
  command->add_option("--prompt", arguments->prompt, "text to continue")->required();
  command->add_option("--max-new-tokens", arguments->max_new_tokens, "tokens to generate at most")
      ->required()->check(CLI::NonNegativeNumber);
  command->add_option("--threads", arguments->threads, "threads for LibTorch and OpenBLAS (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  command->callback([arguments] { run_generate(*arguments); });
}

}  // namespace
}  // namespace compactmind::host

COMPACTMIND_REGISTER_COMMAND(compactmind::host::setup_generate);
