// bench_retraining: the figures of docs/methods/retraining.md before `compactmind run` exists.
// Loads a model, optionally damages it (seeded weight noise, or a plugin such as llm-pruner) and
// saves that copy, applies plugins through the host's plugin registry, and reports test PPL before and
// after, the time of each step and the peak resident memory (VmHWM) of the process as one JSON line
// on stdout. Run one configuration per process so that VmHWM compares configurations.
#include "compactmind/host/plugin_registry.h"
#include "compactmind/llama_model.h"
#include "compactmind/log.h"
#include "compactmind/method_context.h"
#include "compactmind/perplexity.h"
#include "compactmind/text_data.h"
#include "compactmind/threads.h"
#include "compactmind/tokenizer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

using compactmind::LlamaModel;

// $COMPACTMIND_FIXTURES first, as the tests do.
std::string fixtures_dir() {
  const char* from_env = std::getenv("COMPACTMIND_FIXTURES");
  return from_env ? from_env : COMPACTMIND_FIXTURES;
}

struct Arguments {
  std::string model_dir = fixtures_dir() + "/models/tiny-llama2";
  std::string teacher_dir;  // the uncompressed base (MethodContext::base_model); default: model_dir
  std::string train_file = fixtures_dir() + "/data/wikitext-2/valid.txt";
  std::string eval_file = fixtures_dir() + "/data/wikitext-2/test.txt";
  std::string plugin_dir = COMPACTMIND_BUILD_PLUGIN_DIR;
  double noise = 0.0;                  // damage: Gaussian noise of this fraction of each weight's RMS
  std::vector<std::string> damage;     // damage by plugins: "name" or "name={json}"
  std::vector<std::string> apply;      // steps measured: "name" or "name={json}"
  std::string save_dir;                // where the damaged model is written
  int64_t eval_seqlen = 256;
  int64_t eval_windows = -1;
  int threads = 2;
  uint64_t seed = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Peak resident set size of this process in KiB, from /proc/self/status.
int64_t vm_hwm_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

std::pair<std::string, nlohmann::json> parse_step(const std::string& text) {
  const size_t equals = text.find('=');
  if (equals == std::string::npos) return {text, nlohmann::json::object()};
  return {text.substr(0, equals), nlohmann::json::parse(text.substr(equals + 1))};
}

void add_noise(LlamaModel& model, double fraction, uint64_t seed) {
  at::NoGradGuard no_grad;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, linear] : model.named_linears()) {
    at::Tensor& weight = compactmind::as_dense(*linear, name).weight;
    const double rms = weight.pow(2).mean().sqrt().item<double>();
    weight.add_(at::empty_like(weight).normal_(0.0, fraction * rms, generator));
  }
}

nlohmann::json evaluate(const LlamaModel& model, const at::Tensor& stream, const Arguments& arguments) {
  compactmind::PerplexityOptions options;
  options.seqlen = arguments.eval_seqlen;
  options.max_windows = arguments.eval_windows;
  options.batch = 4;
  const compactmind::PerplexityResult result = compactmind::evaluate_perplexity(model, stream, options);
  return {{"ppl", result.ppl}, {"windows", result.windows}, {"seconds", result.seconds}};
}

void run(const Arguments& arguments) {
  const int threads = compactmind::set_threads(arguments.threads);
  compactmind::log_info("threads: " + std::to_string(threads));
  nlohmann::json report = {{"threads", threads}, {"model", arguments.model_dir}};

  const std::string teacher_dir = arguments.teacher_dir.empty() ? arguments.model_dir : arguments.teacher_dir;
  const LlamaModel teacher = LlamaModel::load(teacher_dir);
  LlamaModel model = arguments.teacher_dir.empty() ? teacher.clone() : LlamaModel::load(arguments.model_dir);
  const compactmind::Tokenizer tokenizer = compactmind::Tokenizer::load(teacher_dir);
  const at::Tensor eval_stream = arguments.eval_windows != 0
                                     ? compactmind::tokenize_file(tokenizer, arguments.eval_file).ids
                                     : at::Tensor();

  compactmind::MethodContext context;
  context.set_base_model(&teacher);
  const std::string train_file = arguments.train_file;
  context.set_train_tokens([&tokenizer, train_file] {
    return compactmind::tokenize_file(tokenizer, train_file).ids;
  });
  context.set_calibration_windows([&tokenizer, train_file] {
    return compactmind::cut_windows(compactmind::tokenize_file(tokenizer, train_file).ids, 128, 64);
  });
  context.set_seed(arguments.seed);
  context.set_threads(threads);

  const auto registry = compactmind::host::PluginRegistry::discover(
      compactmind::host::DiscoveryOptions::only({arguments.plugin_dir}));

  if (arguments.noise > 0.0) {
    add_noise(model, arguments.noise, arguments.seed);
    report["damage"].push_back({{"noise", arguments.noise}, {"seed", arguments.seed}});
  }
  for (const std::string& text : arguments.damage) {
    const auto [name, params] = parse_step(text);
    registry.apply(name, model, params, context);
    context.set_model_is_base(false);
    report["damage"].push_back({{"plugin", name}, {"params", params}});
  }
  if (!arguments.save_dir.empty()) model.save(arguments.save_dir);
  report["parameters"] = model.parameter_count();
  report["eval_seqlen"] = arguments.eval_seqlen;
  // --eval-windows 0 skips evaluation: a process that only loads and trains, for memory figures.
  const bool evaluating = arguments.eval_windows != 0;
  if (evaluating) {
    report["before"] = evaluate(model, eval_stream, arguments);
    compactmind::log_info("PPL before: " + report["before"]["ppl"].dump());
  }

  // Tokenize the training text now (SentencePiece's own peak on a 1 MB text is not the training's),
  // then note the peak so far: what the steps add shows above it.
  context.train_tokens();
  report["vm_hwm_before_steps_mib"] = static_cast<double>(vm_hwm_kib()) / 1024.0;
  for (const std::string& text : arguments.apply) {
    const auto [name, params] = parse_step(text);
    const auto start = std::chrono::steady_clock::now();
    registry.apply(name, model, params, context);
    context.set_model_is_base(false);
    report["steps"].push_back({{"plugin", name},
                               {"params", params},
                               {"seconds", seconds_since(start)},
                               {"vm_hwm_mib", static_cast<double>(vm_hwm_kib()) / 1024.0}});
  }
  if (evaluating && !arguments.apply.empty()) {
    report["after"] = evaluate(model, eval_stream, arguments);
    compactmind::log_info("PPL after: " + report["after"]["ppl"].dump());
  }
  report["vm_hwm_mib"] = static_cast<double>(vm_hwm_kib()) / 1024.0;
  std::cout << report.dump() << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Damage a model, retrain it through the plugin registry, and measure PPL and memory"};
  Arguments arguments;
  app.add_option("--model", arguments.model_dir, "model folder (the student)");
  app.add_option("--teacher", arguments.teacher_dir, "uncompressed base model (default: --model)");
  app.add_option("--train-data", arguments.train_file, "training text");
  app.add_option("--eval-data", arguments.eval_file, "evaluation text");
  app.add_option("--plugin-dir", arguments.plugin_dir, "folder of plugin libraries");
  app.add_option("--noise", arguments.noise, "damage: Gaussian weight noise, fraction of each linear's RMS");
  app.add_option("--damage", arguments.damage, "damage with a plugin: name or name={json}");
  app.add_option("--apply", arguments.apply, "plugin step to measure: name or name={json}");
  app.add_option("--save", arguments.save_dir, "write the damaged model here");
  app.add_option("--eval-seqlen", arguments.eval_seqlen, "evaluation window length");
  app.add_option("--eval-windows", arguments.eval_windows, "evaluation windows (-1: all, 0: no evaluation)");
  app.add_option("--threads", arguments.threads, "threads");
  app.add_option("--seed", arguments.seed, "seed of the noise and of the context");
  CLI11_PARSE(app, argc, argv);
  try {
    run(arguments);
  } catch (const std::exception& error) {
    compactmind::log_error(error.what());
    return 1;
  }
  return 0;
}
