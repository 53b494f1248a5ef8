// The C++ tier of a plugin: a Method subclass and one COMPACTMIND_PLUGIN(...) line. The macro emits
// the single exported C entry point and wraps every call so that no exception crosses the boundary
// (each becomes a cm_status with the exception's message). Authoring guide: docs/plugin-authoring.md.
#pragma once

#include "compactmind/llama_model.h"
#include "compactmind/method_context.h"
#include "compactmind/param_space.h"
#include "compactmind/contract/plugin_abi.h"
#include "compactmind/version.h"

#include <exception>
#include <string>

namespace compactmind {

class Method {
 public:
  virtual ~Method() = default;
  // Compresses `model` in place. Throw std::exception (with a message a user can act on) on failure.
  virtual void apply(LlamaModel& model, const Params& params, MethodContext& context) = 0;
};

namespace plugin_detail {
cm_status ok_status();
cm_status error_status(const char* message);
// Runs `body`, converting any exception into a failure status.
template <typename Body>
cm_status guarded(Body&& body) noexcept {
  try {
    body();
    return ok_status();
  } catch (const std::exception& error) {
    return error_status(error.what());
  } catch (...) {
    return error_status("unknown exception (not derived from std::exception)");
  }
}
}  // namespace plugin_detail

}  // namespace compactmind

// COMPACTMIND_PLUGIN(MethodClass, "name", "version", CM_KIND_..., "description", space_expr)
// name, version and description must be string literals: the descriptor is constexpr, constant data
// the host reads without running any of the plugin's (or the SDK's) code. space_expr, an expression
// of type compactmind::SpaceBuilder, is evaluated once, when the host first calls get_space_json
// (after its ABI and fingerprint checks); if it throws or fails validation, get_space_json returns a
// failure status with the message and the host rejects the plugin quoting it.
#define COMPACTMIND_PLUGIN(MethodClass, kName, kVersion, kKind, kDescription, space_expr)           \
  namespace {                                                                                     \
  cm_status cm_plugin_create(cm_method** out) {                                                    \
    return ::compactmind::plugin_detail::guarded(                                                 \
        [&] { *out = reinterpret_cast<cm_method*>(static_cast<::compactmind::Method*>(new MethodClass())); }); \
  }                                                                                               \
  void cm_plugin_destroy(cm_method* method) { delete reinterpret_cast<::compactmind::Method*>(method); } \
  cm_status cm_plugin_apply(cm_method* method, cm_model* model, const char* params_json,          \
                            cm_context* context) {                                                \
    return ::compactmind::plugin_detail::guarded([&] {                                            \
      reinterpret_cast<::compactmind::Method*>(method)->apply(                                    \
          *reinterpret_cast<::compactmind::LlamaModel*>(model),                                   \
          ::compactmind::Params(nlohmann::json::parse(params_json)),                              \
          *reinterpret_cast<::compactmind::MethodContext*>(context));                             \
    });                                                                                           \
  }                                                                                               \
  cm_status cm_plugin_get_space_json(const char** out_json) {                                     \
    return ::compactmind::plugin_detail::guarded([&] {                                            \
      /* A throwing initialiser leaves the static unset, so a later call tries again. */          \
      static const std::string text = ::compactmind::SpaceBuilder(space_expr).to_json();          \
      *out_json = text.c_str();                                                                   \
    });                                                                                           \
  }                                                                                               \
  constexpr cm_plugin_descriptor kCmPluginDescriptor = {                                          \
      CM_ABI_VERSION,                                                                             \
      static_cast<uint32_t>(sizeof(cm_plugin_descriptor)),                                        \
      kName,                                                                                      \
      kVersion,                                                                                   \
      kKind,                                                                                      \
      kDescription,                                                                               \
      COMPACTMIND_SDK_VERSION,                                                                    \
      COMPACTMIND_TORCH_VERSION,                                                                  \
      _GLIBCXX_USE_CXX11_ABI,                                                                     \
      nullptr,                                                                                    \
      &cm_plugin_create,                                                                          \
      &cm_plugin_destroy,                                                                         \
      &cm_plugin_apply,                                                                           \
      &cm_plugin_get_space_json};                                                                 \
  }                                                                                               \
  extern "C" __attribute__((visibility("default"))) const cm_plugin_descriptor*                   \
  cm_plugin_get_descriptor(void) noexcept {                                                       \
    return &kCmPluginDescriptor;                                                                  \
  }
