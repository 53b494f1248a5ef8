// SpaceBuilder → the JSON format of docs/abi.md, its validation errors, and Params' typed getters.
#include "compactmind/param_space.h"
#include "compactmind/contract/parameter_space.h"

#include <catch2/catch.hpp>

using compactmind::Params;
using compactmind::SpaceBuilder;

TEST_CASE("SpaceBuilder writes the documented JSON format", "[sdk][space]") {
  const auto json = nlohmann::json::parse(SpaceBuilder()
                                              .add_float("alpha", 0.0, 1.0, 0.5)
                                              .add_float("lr", 1e-5, 1e-2, 1e-4)
                                              .log_scale()
                                              .add_int("rank", 4, 64, 8)
                                              .step(4)
                                              .add_categorical("importance", {"l1", "l2", "taylor"}, "l2")
                                              .add_bool("smooth", true)
                                              .add_float("ratio", 0.1, 0.5, 0.2)
                                              .step(0.05)
                                              .when("smooth", true)
                                              .fixed()
                                              .to_json());
  const nlohmann::json expected = {
      {"parameters",
       {{{"name", "alpha"}, {"type", "float"}, {"low", 0.0}, {"high", 1.0}, {"log", false}, {"step", nullptr},
         {"default", 0.5}, {"tunable", true}},
        {{"name", "lr"}, {"type", "float"}, {"low", 1e-5}, {"high", 1e-2}, {"log", true}, {"step", nullptr},
         {"default", 1e-4}, {"tunable", true}},
        {{"name", "rank"}, {"type", "int"}, {"low", 4}, {"high", 64}, {"log", false}, {"step", 4},
         {"default", 8}, {"tunable", true}},
        {{"name", "importance"}, {"type", "categorical"}, {"choices", {"l1", "l2", "taylor"}},
         {"default", "l2"}, {"tunable", true}},
        {{"name", "smooth"}, {"type", "bool"}, {"default", true}, {"tunable", true}},
        {{"name", "ratio"}, {"type", "float"}, {"low", 0.1}, {"high", 0.5}, {"log", false}, {"step", 0.05},
         {"default", 0.2}, {"tunable", false}, {"condition", {{"parameter", "smooth"}, {"equals", true}}}}}}};
  CHECK(json == expected);
}

TEST_CASE("the search side parses what the builder writes", "[sdk][space]") {
  const std::string text = SpaceBuilder()
                               .add_int("rank", 4, 64, 8)
                               .step(4)
                               .log_scale()
                               .add_categorical("mode", {"full", "lora"}, "lora")
                               .add_float("dropout", 0.0, 0.3, 0.05)
                               .when("mode", "lora")
                               .to_json();
  const auto space = compactmind::ParameterSpace::parse(text, "test");
  REQUIRE(space.parameters.size() == 3);
  CHECK(space.parameters[0].type == compactmind::ParameterType::kInt);
  CHECK(space.parameters[0].step == 4);
  CHECK(space.parameters[0].log_scale);
  CHECK(space.parameters[2].step == 0);  // null step: continuous
  REQUIRE(space.parameters[2].condition.has_value());
  CHECK(space.parameters[2].condition->parameter == "mode");
  CHECK(space.resolve({{"mode", "full"}}, "test") == nlohmann::json{{"rank", 8}, {"mode", "full"}});
}

// The cases where the SDK and the search's own parser disagreed before they shared one validator: the
// search turned an int step of 0 into 1 and accepted duplicate choices and conditions on values the
// parent cannot take. Now the host (which parses with the owner "invalid parameter space") rejects
// each with the SDK's message.
TEST_CASE("a space the SDK rejects is rejected by the host with the same message", "[sdk][space][contract]") {
  struct Case {
    SpaceBuilder declared;
    const char* as_json;  // what a plugin not built with SpaceBuilder could hand over instead
    std::string message;
  };
  const std::vector<Case> cases = {
      {SpaceBuilder().add_int("n", 1, 9, 3).step(0),
       R"({"parameters": [{"name": "n", "type": "int", "low": 1, "high": 9, "log": false, "step": 0, "default": 3}]})",
       "space parameter 'n': step must be positive, got 0"},
      {SpaceBuilder().add_int("n", 1, 9, 3).step(-1),
       R"({"parameters": [{"name": "n", "type": "int", "low": 1, "high": 9, "log": false, "step": -1, "default": 3}]})",
       "space parameter 'n': step must be positive, got -1"},
      {SpaceBuilder().add_categorical("c", {"x", "x"}, "x"),
       R"({"parameters": [{"name": "c", "type": "categorical", "choices": ["x", "x"], "default": "x"}]})",
       "space parameter 'c': choice 'x' listed twice"},
      {SpaceBuilder().add_bool("smooth", true).add_float("a", 0, 1, 0.5).when("smooth", "yes"),
       R"({"parameters": [{"name": "smooth", "type": "bool", "default": true},
                          {"name": "a", "type": "float", "low": 0, "high": 1, "default": 0.5,
                           "condition": {"parameter": "smooth", "equals": "yes"}}]})",
       "space parameter 'a': condition value \"yes\" is not a legal value of 'smooth'"},
      {SpaceBuilder().add_categorical("mode", {"full", "lora"}, "lora").add_int("rank", 1, 8, 4).when("mode", "qlora"),
       R"({"parameters": [{"name": "mode", "type": "categorical", "choices": ["full", "lora"], "default": "lora"},
                          {"name": "rank", "type": "int", "low": 1, "high": 8, "default": 4,
                           "condition": {"parameter": "mode", "equals": "qlora"}}]})",
       "space parameter 'rank': condition value \"qlora\" is not a legal value of 'mode'"},
  };
  for (const auto& each : cases) {
    CHECK_THROWS_WITH(each.declared.to_json(), each.message);
    CHECK_THROWS_WITH(compactmind::ParameterSpace::parse(each.as_json, "invalid parameter space"),
                      "invalid parameter space: " + each.message);
  }
}

// The other half: what the SDK writes, the host reads back unchanged (every key of every type).
TEST_CASE("a space the SDK accepts is accepted by the host as declared", "[sdk][space][contract]") {
  const auto space = compactmind::ParameterSpace::parse(
      SpaceBuilder()
          .add_float("ratio", 0.1, 0.5, 0.2)
          .step(0.05)
          .add_int("steps", 1, 2000, 100)
          .log_scale()
          .fixed()
          .add_categorical("mode", {"full", "lora"}, "lora")
          .add_bool("merge", true)
          .when("mode", "lora")
          .to_json(),
      "test");
  REQUIRE(space.parameters.size() == 4);
  const auto& ratio = space.parameters[0];
  CHECK((ratio.type == compactmind::ParameterType::kFloat && ratio.low == 0.1 && ratio.high == 0.5 &&
         ratio.step == 0.05 && !ratio.log_scale && ratio.default_value == 0.2 && ratio.tunable));
  const auto& steps = space.parameters[1];
  CHECK((steps.type == compactmind::ParameterType::kInt && steps.low == 1 && steps.high == 2000 && steps.step == 1 &&
         steps.log_scale && steps.default_value == 100 && !steps.tunable));
  CHECK(space.parameters[2].choices == std::vector<std::string>{"full", "lora"});
  REQUIRE(space.parameters[3].condition.has_value());
  CHECK(space.parameters[3].condition->equals == "lora");
  CHECK(space.parameters[3].default_value == true);
}

TEST_CASE("SpaceBuilder rejects inconsistent declarations naming the parameter", "[sdk][space]") {
  CHECK_THROWS_WITH(SpaceBuilder().add_float("a", 0, 1, 0.5).add_int("a", 0, 3, 1).to_json(),
                    "space parameter 'a': declared twice");
  CHECK_THROWS_WITH(SpaceBuilder().add_float("alpha", 0, 1, 2).to_json(),
                    "space parameter 'alpha': default 2.0 is outside [0.0, 1.0]");
  CHECK_THROWS_WITH(SpaceBuilder().add_int("n", 5, 1, 3).to_json(), "space parameter 'n': low 5 is greater than high 1");
  CHECK_THROWS_WITH(SpaceBuilder().add_float("lr", 0, 1, 0.1).log_scale().to_json(),
                    "space parameter 'lr': a log-scale parameter needs low > 0, got 0.0");
  CHECK_THROWS_WITH(SpaceBuilder().add_int("n", 1, 9, 3).step(0).to_json(), "space parameter 'n': step must be positive, got 0");
  CHECK_THROWS_WITH(SpaceBuilder().add_int("n", 1, 9, 3).step(1.5).to_json(),
                    "space parameter 'n': an int parameter's step must be an integer, got 1.5");
  CHECK_THROWS_WITH(SpaceBuilder().add_float("x", 0, 1, 0.5).step(-0.1).to_json(),
                    "space parameter 'x': step must be positive, got -0.1");
  CHECK_THROWS_WITH(SpaceBuilder().add_bool("b", true).log_scale(),
                    "SpaceBuilder::log_scale() applies to float and int parameters, 'b' is bool");
  CHECK_THROWS_WITH(SpaceBuilder().add_categorical("c", {"x"}, "x").step(1),
                    "SpaceBuilder::step() applies to float and int parameters, 'c' is categorical");
  CHECK_THROWS_WITH(SpaceBuilder().add_categorical("c", {"x", "y"}, "z").to_json(),
                    "space parameter 'c': default 'z' is not one of {x, y}");
  CHECK_THROWS_WITH(SpaceBuilder().add_categorical("c", {"x", "x"}, "x").to_json(),
                    "space parameter 'c': choice 'x' listed twice");
  CHECK_THROWS_WITH(SpaceBuilder().add_categorical("c", {}, "x").to_json(),
                    "space parameter 'c': a categorical parameter needs at least one choice");
  CHECK_THROWS_WITH(SpaceBuilder().add_float("a", 0, 1, 0.5).when("later", true).add_bool("later", true).to_json(),
                    "space parameter 'a': condition names 'later', which is not declared before it");
  CHECK_THROWS_WITH(SpaceBuilder().add_bool("smooth", true).add_float("a", 0, 1, 0.5).when("smooth", "yes").to_json(),
                    "space parameter 'a': condition value \"yes\" is not a legal value of 'smooth'");
  CHECK_THROWS_WITH(SpaceBuilder().when("x", 1),
                    "SpaceBuilder::when() modifies the parameter added last, but none was added yet");
  CHECK_THROWS_WITH(SpaceBuilder().add_bool("", true).to_json(), "space parameter with an empty name");
}

TEST_CASE("Params gives typed values and errors people can act on", "[sdk][params]") {
  const Params params(nlohmann::json{{"alpha", 0.5}, {"rank", 8}, {"rank_f", 64.0}, {"half", 2.5},
                                     {"mode", "lora"}, {"smooth", true}});
  CHECK(params.get_float("alpha") == 0.5);
  CHECK(params.get_float("rank") == 8.0);  // an int is a fine float
  CHECK(params.get_int("rank") == 8);
  CHECK(params.get_int("rank_f") == 64);   // 64.0 after a JSON round trip is still an integer
  CHECK(params.get_string("mode") == "lora");
  CHECK(params.get_bool("smooth"));
  CHECK(params.has("alpha"));
  CHECK_FALSE(params.has("beta"));
  CHECK_THROWS_WITH(params.get_int("half"), "parameter 'half' is 2.5, expected an integer");
  CHECK_THROWS_WITH(params.get_float("mode"), "parameter 'mode' is a string (\"lora\"), expected a number");
  CHECK_THROWS_WITH(params.get_bool("rank"), "parameter 'rank' is 8, expected true or false");
  CHECK_THROWS_WITH(params.get_string("alpha"), "parameter 'alpha' is 0.5, expected a string");
  CHECK_THROWS_WITH(params.get_float("beta"),
                    "parameter 'beta' is not set (given: alpha, half, mode, rank, rank_f, smooth); if it is "
                    "conditional, check has() first");
  CHECK_THROWS_WITH(Params(nlohmann::json::array()), "method parameters must be a JSON object, got []");
}
