// The one validator of the space format (compactmind/contract/parameter_space.h): every rule with its
// exact message, and the owner prefix parse() adds. Torch-free, like the search that uses it.
#include "compactmind/contract/parameter_space.h"

#include <catch2/catch.hpp>

using compactmind::ParameterSpace;
using compactmind::ParameterType;

namespace {

// The message from_json throws for a space holding the one parameter `entry`.
std::string rejection_of(const nlohmann::json& entry) {
  try {
    ParameterSpace::from_json({{"parameters", {entry}}});
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "accepted";
}

const nlohmann::json kInt = {{"name", "n"}, {"type", "int"}, {"low", 1}, {"high", 9}, {"default", 3}};

nlohmann::json with(nlohmann::json entry, const std::string& key, nlohmann::json value) {
  entry[key] = std::move(value);
  return entry;
}

}  // namespace

TEST_CASE("the validator reads steps, defaults and conditions as the search uses them", "[contract][space]") {
  const auto space = ParameterSpace::parse(R"({"parameters": [
      {"name": "n", "type": "int", "low": 1, "high": 9, "default": 3},
      {"name": "lr", "type": "float", "low": 0.001, "high": 0.1, "log": true, "step": null, "default": 0.01},
      {"name": "mode", "type": "categorical", "choices": ["a", "b"], "default": "a", "tunable": false},
      {"name": "k", "type": "int", "low": 0, "high": 8, "step": 2, "default": 4,
       "condition": {"parameter": "mode", "equals": "b"}}]})", "test");
  REQUIRE(space.parameters.size() == 4);
  CHECK(space.parameters[0].step == 1);  // an int without a step takes every integer
  CHECK(space.parameters[1].step == 0);  // a float without one is continuous
  CHECK(space.parameters[1].log_scale);
  CHECK_FALSE(space.parameters[2].tunable);
  CHECK(space.parameters[3].step == 2);
  CHECK(space.parameters[3].condition->parameter == "mode");
  CHECK(space.parameters[3].condition->equals == "b");
  CHECK(space.find("lr")->type == ParameterType::kFloat);
}

TEST_CASE("the validator rejects every malformed parameter naming it", "[contract][space]") {
  CHECK(rejection_of(with(kInt, "step", 0)) == "space parameter 'n': step must be positive, got 0");
  CHECK(rejection_of(with(kInt, "step", -2)) == "space parameter 'n': step must be positive, got -2");
  CHECK(rejection_of(with(kInt, "step", 1.5)) == "space parameter 'n': an int parameter's step must be an integer, got 1.5");
  CHECK(rejection_of(with(kInt, "step", "2")) == "space parameter 'n': step must be a number or null, got \"2\"");
  CHECK(rejection_of(with(kInt, "low", 0.5)) ==
        "space parameter 'n': an int parameter's bounds must be integers, got [0.5, 9]");
  CHECK(rejection_of(with(kInt, "high", "9")) == "space parameter 'n': numeric parameters need numeric \"low\" and \"high\"");
  CHECK(rejection_of(with(kInt, "low", 10)) == "space parameter 'n': low 10 is greater than high 9");
  CHECK(rejection_of(with(kInt, "default", 2.5)) == "space parameter 'n': default expects an integer, got 2.5");
  CHECK(rejection_of(with(kInt, "default", 12)) == "space parameter 'n': default 12 is outside [1.0, 9.0]");
  CHECK(rejection_of(with(with(kInt, "low", 0), "log", true)) ==
        "space parameter 'n': a log-scale parameter needs low > 0, got 0");
  CHECK(rejection_of(with(kInt, "log", "yes")) == "space parameter 'n': \"log\" must be true or false, got \"yes\"");
  CHECK(rejection_of(with(kInt, "tunable", 0)) == "space parameter 'n': \"tunable\" must be true or false, got 0");
  CHECK(rejection_of(with(kInt, "type", "complex")) ==
        "space parameter 'n': unknown type 'complex' (expected float, int, categorical or bool)");
  CHECK(rejection_of({{"name", "n"}, {"default", 1}}) == "space parameter 'n': missing \"type\" (a string)");
  CHECK(rejection_of({{"name", "b"}, {"type", "bool"}}) == "space parameter 'b': missing \"default\"");
  CHECK(rejection_of({{"type", "bool"}, {"default", true}}) == "space parameter #1 needs a string \"name\"");
  CHECK(rejection_of({{"name", "c"}, {"type", "categorical"}, {"choices", {"x", 2}}, {"default", "x"}}) ==
        "space parameter 'c': choices must be strings, got 2");
  CHECK(rejection_of({{"name", "c"}, {"type", "categorical"}, {"choices", {"x", "x"}}, {"default", "x"}}) ==
        "space parameter 'c': choice 'x' listed twice");
  CHECK(rejection_of({{"name", "c"}, {"type", "categorical"}, {"choices", {"x", "y"}}, {"default", "z"}}) ==
        "space parameter 'c': default 'z' is not one of {x, y}");
  CHECK(rejection_of({{"name", "c"}, {"type", "categorical"}, {"default", "z"}}) ==
        "space parameter 'c': a categorical parameter needs a \"choices\" array");
  CHECK(rejection_of(with(kInt, "condition", {{"parameter", "n"}})) ==
        "space parameter 'n': condition needs a string \"parameter\" and an \"equals\" value");
  CHECK(rejection_of(with(kInt, "condition", {{"parameter", "m"}, {"equals", 1}})) ==
        "space parameter 'n': condition names 'm', which is not declared before it");
}

TEST_CASE("conditions must name a legal value of the earlier parameter", "[contract][space]") {
  const auto rejection = [](const nlohmann::json& equals) {
    try {
      ParameterSpace::from_json({{"parameters",
                                  {{{"name", "mode"}, {"type", "categorical"}, {"choices", {"a", "b"}}, {"default", "a"}},
                                   with(kInt, "condition", {{"parameter", "mode"}, {"equals", equals}})}}});
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  CHECK(rejection("b") == "accepted");
  CHECK(rejection("c") == "space parameter 'n': condition value \"c\" is not a legal value of 'mode'");
  CHECK(rejection(true) == "space parameter 'n': condition value true is not a legal value of 'mode'");
}

TEST_CASE("parse prefixes every error with its owner, JSON syntax included", "[contract][space]") {
  CHECK_THROWS_WITH(ParameterSpace::parse(R"({"parameters": [{"name": "n", "type": "int", "low": 1, "high": 9,
                                              "step": 0, "default": 3}]})", "plugin 'x'"),
                    "plugin 'x': space parameter 'n': step must be positive, got 0");
  CHECK_THROWS_WITH(ParameterSpace::parse(R"({"params": []})", "plugin 'x'"),
                    "plugin 'x': space must be an object with a \"parameters\" array");
  CHECK_THROWS_WITH(ParameterSpace::parse(R"({"parameters": [)", "plugin 'x'"),
                    Catch::StartsWith("plugin 'x': space is not valid JSON: "));
}

TEST_CASE("resolve fills defaults where conditions hold and names bad values", "[contract][space]") {
  const auto space = ParameterSpace::parse(R"({"parameters": [
      {"name": "smooth", "type": "bool", "default": true},
      {"name": "alpha", "type": "float", "low": 0.0, "high": 1.0, "default": 0.5,
       "condition": {"parameter": "smooth", "equals": true}}]})", "test");
  CHECK(space.resolve(nlohmann::json::object(), "p") == nlohmann::json{{"smooth", true}, {"alpha", 0.5}});
  CHECK(space.resolve({{"smooth", false}}, "p") == nlohmann::json{{"smooth", false}});
  CHECK_THROWS_WITH(space.resolve({{"alpha", 2.0}}, "p"), "p: parameter 'alpha': 2.0 is outside [0.0, 1.0]");
  CHECK_THROWS_WITH(space.resolve({{"smooth", false}, {"alpha", 0.1}}, "p"),
                    "p: parameter 'alpha': given, but it applies only when 'smooth' is true");
  CHECK_THROWS_WITH(space.resolve({{"beta", 1}}, "p"), "p: unknown parameter 'beta' (declared: smooth, alpha)");
}
