#include "json_error_location.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace compactmind::host {
namespace {

using json = nlohmann::json;

// A SAX pass that keeps the path to the current value and records it at the first error.
class ErrorLocator : public nlohmann::json_sax<json> {
 public:
  std::string location;
  std::string last_key;

  bool null() override { return value_done(); }
  bool boolean(bool) override { return value_done(); }
  bool number_integer(number_integer_t) override { return value_done(); }
  bool number_unsigned(number_unsigned_t) override { return value_done(); }
  bool number_float(number_float_t, const string_t&) override { return value_done(); }
  bool string(string_t&) override { return value_done(); }
  bool binary(binary_t&) override { return value_done(); }
  bool start_object(std::size_t) override {
    frames_.push_back({false, 0, ""});
    return true;
  }
  bool key(string_t& name) override {
    frames_.back().key = name;
    return true;
  }
  bool end_object() override {
    frames_.pop_back();
    return value_done();
  }
  bool start_array(std::size_t) override {
    frames_.push_back({true, 0, ""});
    return true;
  }
  bool end_array() override {
    frames_.pop_back();
    return value_done();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    for (const auto& frame : frames_) {
      if (frame.array) {
        location += "[" + std::to_string(frame.index) + "]";
      } else if (!frame.key.empty()) {
        location += (location.empty() ? "" : ".") + frame.key;
        last_key = frame.key;
      }
    }
    return false;
  }

 private:
  struct Frame {
    bool array;
    std::size_t index;  // of the element being read, in an array
    std::string key;    // of the member being read, in an object
  };
  bool value_done() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  std::vector<Frame> frames_;
};

}  // namespace

std::string json_error_location(const std::string& text, std::string& last_key) {
  ErrorLocator locator;
  json::sax_parse(text, &locator);
  last_key = locator.last_key;
  return locator.location;
}

}  // namespace compactmind::host
