// Input that used to hang, eat memory or give silent nonsense (issue 13), through the CLI: FIFOs and
// devices as data, shard or config; config dimensions against the tensors; invalid UTF-8; windows past
// the trained positions; --max-windows 0; a search on unusable data; --threads out of range;
// unreadable plugin folders; 1e400 in a pipeline; a tokenizer that is a folder; a symlink loop.
// Every run goes through `timeout`, so that a regression hangs no test: it fails it.
#include "hostile_test_support.h"

#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/stat.h>

using namespace compactmind::test;
namespace fs = std::filesystem;

namespace {

const std::string kBounded = "timeout 120 ";

CommandResult bounded(const std::vector<std::string>& arguments) { return run_host(arguments, kBounded); }

std::vector<std::string> eval_on(const fs::path& model, const fs::path& data, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> arguments = {"eval", "--model", model.string(), "--data", data.string(), "--seqlen", "64",
                                        "--max-windows", "1", "--threads", "1"};
  for (size_t i = 0; i < extra.size(); ++i) {
    const bool has_value = i + 1 < extra.size() && extra[i + 1].rfind("--", 0) != 0;
    if (has_value) {
      arguments = with_option(arguments, extra[i], extra[i + 1]);
      ++i;
    } else {
      arguments.push_back(extra[i]);
    }
  }
  return arguments;
}

void set_config_value(const fs::path& model, const std::string& key, const nlohmann::json& value) {
  nlohmann::json config = nlohmann::json::parse(file_bytes(model / "config.json"));
  config[key] = value;
  write_text(model / "config.json", config.dump(2));
}

}  // namespace

TEST_CASE("inputs: a FIFO or a device as --data is refused at once", "[inputs]") {
  const fs::path dir = fresh_temp_dir("fifo-data");
  const fs::path fifo = dir / "data.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  for (const fs::path& data : {fifo, fs::path("/dev/zero")}) {
    const CommandResult eval = bounded(eval_on(tiny_llama2(), data));
    CHECK(eval.exit_code == 1);
    CHECK_THAT(eval.err, Catch::Contains("text file '" + data.string() +
                                         "' is not a regular file (a FIFO, device or folder could block or never "
                                         "end); give a text file"));
  }
  const CommandResult run = bounded({"run", "--model", tiny_llama2().string(), "--pipeline", "[]", "--data", fifo.string()});
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("--data '" + fifo.string() + "': not a regular file (a folder, FIFO or device)"));
  fs::remove_all(dir);
}

TEST_CASE("inputs: a FIFO as shard or as config.json is refused at once", "[inputs]") {
  const fs::path dir = fresh_temp_dir("fifo-model");
  const fs::path model = dir / "model";
  REQUIRE(write_random_model(model, 1).exit_code == 0);
  fs::remove(model / "model.safetensors");
  REQUIRE(::mkfifo((model / "model.safetensors").c_str(), 0644) == 0);
  const CommandResult shard = bounded(eval_on(model, wikitext("test.txt")));
  CHECK(shard.exit_code == 1);
  CHECK_THAT(shard.err, Catch::Contains("safetensors file '" + (model / "model.safetensors").string() +
                                        "': not a regular file"));

  fs::remove(model / "config.json");
  REQUIRE(::mkfifo((model / "config.json").c_str(), 0644) == 0);
  const CommandResult config = bounded(eval_on(model, wikitext("test.txt")));
  CHECK(config.exit_code == 1);
  CHECK_THAT(config.err, Catch::Contains("config '" + (model / "config.json").string() +
                                         "' is not a regular file (a FIFO or device could block or never end)"));
  fs::remove_all(dir);
}

TEST_CASE("inputs: num_hidden_layers is checked against the checkpoint before anything is allocated", "[inputs]") {
  const fs::path dir = fresh_temp_dir("layers");
  const fs::path model = dir / "model";
  REQUIRE(write_random_model(model, 1).exit_code == 0);  // 2 decoder layers
  for (const int64_t layers : {int64_t{1000000000}, int64_t{1}}) {
    set_config_value(model, "num_hidden_layers", layers);
    // 2 GB of address space: enough for the host, far too little for a billion layer records.
    const CommandResult eval = run_host(eval_on(model, wikitext("test.txt")), kBounded + "prlimit --as=2000000000 ");
    CHECK(eval.exit_code == 1);
    CHECK_THAT(eval.err, Catch::Contains("config '" + (model / "config.json").string() + "' gives num_hidden_layers " +
                                         std::to_string(layers) + ", but the checkpoint in '" + model.string() +
                                         "' holds 2 decoder layer(s), model.layers.0 to model.layers.1: refusing a "
                                         "model that does not match its weights"));
  }
  fs::remove_all(dir);
}

TEST_CASE("inputs: invalid UTF-8 data is refused with the byte offset", "[inputs]") {
  const fs::path dir = fresh_temp_dir("utf8");
  const fs::path data = dir / "latin1.txt";
  write_text(data, "caf\xe9 au lait, a Latin-1 text");  // é in Latin-1: 0xE9 then a space
  const CommandResult eval = bounded(eval_on(tiny_llama2(), data));
  CHECK(eval.exit_code == 1);
  CHECK_THAT(eval.err, Catch::Contains("text file '" + data.string() + "' is not valid UTF-8: byte 0xE9 at offset 3 "
                                       "(a binary file, or another encoding such as Latin-1?); convert it to UTF-8"));
  fs::remove_all(dir);
}

TEST_CASE("inputs: --seqlen beyond max_position_embeddings warns", "[inputs]") {
  const fs::path dir = fresh_temp_dir("positions");
  const fs::path model = dir / "model";
  REQUIRE(write_evaluable_model(model, 1).exit_code == 0);
  set_config_value(model, "max_position_embeddings", 32);
  const CommandResult eval = bounded(eval_on(model, wikitext("test.txt")));
  INFO(eval.err);
  CHECK(eval.exit_code == 0);
  CHECK_THAT(eval.err, Catch::Contains("--seqlen 64 is beyond max_position_embeddings 32 of '" + model.string() +
                                       "': positions past 32 were never trained"));
  fs::remove_all(dir);
}

TEST_CASE("inputs: --max-windows 0 and --threads -1 are refused with a message a person can act on", "[inputs]") {
  const std::vector<std::vector<std::string>> commands = {
      {"eval", "--model", tiny_llama2().string(), "--data", wikitext("test.txt").string(), "--seqlen", "64"},
      {"run", "--model", tiny_llama2().string(), "--pipeline", "[]"}};
  for (const auto& command : commands) {
    auto zero = command;
    zero.insert(zero.end(), {"--max-windows", "0"});
    const CommandResult windows = bounded(zero);
    CHECK(windows.exit_code != 0);
    CHECK_THAT(windows.err, Catch::Contains("--max-windows: must be at least 1, got 0 (omit it to evaluate every window)"));
    auto negative = command;
    negative.insert(negative.end(), {"--threads", "-1"});
    const CommandResult threads = bounded(negative);
    CHECK(threads.exit_code != 0);
    CHECK_THAT(threads.err, Catch::Contains("--threads: must be 0 (every available core) or a count of threads, got '-1'"));
    CHECK(threads.err.size() < 400);  // no 300-digit bound
  }
}

TEST_CASE("inputs: --threads beyond the cores is capped with a message, unless --oversubscribe", "[inputs]") {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  const int available = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : cores;
  const CommandResult capped = bounded(eval_on(tiny_llama2(), wikitext("test.txt"), {"--threads", "1000", "--json"}));
  const auto report = last_json_line(capped);
  CHECK(report.at("threads") == available);
  CHECK_THAT(capped.err, Catch::Contains("--threads 1000 is more than the " + std::to_string(available) +
                                         " cores available: using " + std::to_string(available) +
                                         " (more threads than cores only slow LibTorch down; pass --oversubscribe to "
                                         "insist)"));
  const std::string more = std::to_string(available + 1);
  const auto insisted =
      last_json_line(bounded(eval_on(tiny_llama2(), wikitext("test.txt"), {"--threads", more, "--oversubscribe", "--json"})));
  CHECK(insisted.at("threads") == available + 1);
}

TEST_CASE("inputs: a search on a text too short for one window fails before the first trial", "[inputs]") {
  const fs::path dir = fresh_temp_dir("short-data");
  const fs::path data = dir / "short.txt";
  write_text(data, "Too short to score.");
  const CommandResult search =
      bounded({"search", "--model", tiny_llama2().string(), "--n-trials", "3", "--eval-windows", "2", "--data",
               data.string(), "--seqlen", "64", "--threads", "1"});
  CHECK(search.exit_code == 1);
  CHECK_THAT(search.err, Catch::Contains("--data '" + data.string() + "' holds "));
  CHECK_THAT(search.err, Catch::Contains(" tokens, fewer than one window of --seqlen 64: every trial would fail; give "
                                         "a longer text or a smaller --seqlen"));
  CHECK_THAT(search.err, !Catch::Contains("trial 1/3 starts"));
  fs::remove_all(dir);
}

TEST_CASE("inputs: an unreadable plugin folder is reported, not skipped", "[inputs]") {
  const fs::path dir = fresh_temp_dir("plugin-folder");
  fs::create_symlink(dir / "loop", dir / "loop");
  const CommandResult loop = bounded({"plugins", "--plugin-dir", (dir / "loop").string()});
  CHECK(loop.exit_code == 1);
  CHECK_THAT(loop.err, Catch::Contains("plugin folder '" + (dir / "loop").string() +
                                       "' (from --plugin-dir) cannot be read: Too many levels of symbolic links"));

  // A folder its user may not list. root reads every folder, so as root the host runs as nobody.
  const fs::path locked = dir / "locked";
  fs::create_directory(locked);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(locked, fs::perms::none);
  const std::string as_user = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  ScopedEnv path("COMPACTMIND_PLUGIN_PATH", locked.string());
  const CommandResult unreadable = run_host({"plugins"}, kBounded + as_user);
  CHECK(unreadable.exit_code == 1);
  CHECK_THAT(unreadable.err, Catch::Contains("plugin folder '" + locked.string() + "' cannot be read: Permission "
                                             "denied; fix its permissions or take it off the plugin path"));
  fs::permissions(locked, fs::perms::owner_all);
  fs::remove_all(dir);
}

TEST_CASE("inputs: messages name the parameter of 1e400, the tokenizer that is a folder, the symlink loop", "[inputs]") {
  const fs::path dir = fresh_temp_dir("messages");
  const CommandResult overflow =
      bounded({"run", "--model", tiny_llama2().string(), "--pipeline", R"([{"method": "llm-pruner", "pruning_ratio": 1e400}])"});
  CHECK(overflow.exit_code == 1);
  CHECK_THAT(overflow.err, Catch::Contains("inline pipeline is not valid JSON: "));
  CHECK_THAT(overflow.err, Catch::Contains("number overflow parsing '1e400' (at [0].pruning_ratio, parameter "
                                           "'pruning_ratio')"));

  const fs::path model = dir / "model";
  REQUIRE(write_random_model(model, 1).exit_code == 0);
  fs::create_directory(model / "tokenizer.model");
  const CommandResult tokenizer = bounded(eval_on(model, wikitext("test.txt")));
  CHECK(tokenizer.exit_code == 1);
  CHECK_THAT(tokenizer.err, Catch::Contains("tokenizer '" + (model / "tokenizer.model").string() +
                                            "' is not a regular file (a folder, FIFO or device)"));

  fs::create_symlink(dir / "loop", dir / "loop");
  const CommandResult loop = bounded({"run", "--model", (dir / "loop").string(), "--pipeline", "[]"});
  CHECK(loop.exit_code == 1);
  CHECK_THAT(loop.err, Catch::Contains("--model '" + (dir / "loop").string() + "': Too many levels of symbolic links"));
  fs::remove_all(dir);
}
