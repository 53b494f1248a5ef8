// A plugin whose descriptor is written by hand, so that one field at a time can be wrong, as a plugin
// built by another SDK or toolchain would have it. Each CMake target sets one defect:
//   CM_TEST_ABI_VERSION, CM_TEST_SDK_VERSION, CM_TEST_TORCH_VERSION, CM_TEST_BAD_SPACE_JSON,
//   CM_TEST_ZERO_STEP_SPACE (valid JSON that the SDK's validator would have refused), or
//   CM_TEST_OLD_CXX_ABI (really compiled with the pre-C++11 std::string ABI).
// CM_TEST_MUST_NOT_BE_CALLED makes every function abort: set for the defects the host must reject
// from the descriptor alone, so a host that called into such a plugin would crash the test.
#ifdef CM_TEST_OLD_CXX_ABI
// Before any standard header, as -D_GLIBCXX_USE_CXX11_ABI=0 would (LibTorch's CMake target forces =1
// on the command line, so the flag alone would not win).
#undef _GLIBCXX_USE_CXX11_ABI
#define _GLIBCXX_USE_CXX11_ABI 0
#endif

#include "compactmind/contract/plugin_abi.h"
#include "compactmind/version.h"

#include <cstdlib>
#include <string>

#ifndef CM_TEST_ABI_VERSION
#define CM_TEST_ABI_VERSION CM_ABI_VERSION
#endif
#ifndef CM_TEST_SDK_VERSION
#define CM_TEST_SDK_VERSION COMPACTMIND_SDK_VERSION
#endif
#ifndef CM_TEST_TORCH_VERSION
#define CM_TEST_TORCH_VERSION COMPACTMIND_TORCH_VERSION
#endif
#if defined(CM_TEST_BAD_SPACE_JSON)
#define CM_TEST_SPACE_JSON "{\"parameters\": [{\"name\": \"alpha\""  // cut short: not JSON
#elif defined(CM_TEST_ZERO_STEP_SPACE)
#define CM_TEST_SPACE_JSON \
  "{\"parameters\": [{\"name\": \"n\", \"type\": \"int\", \"low\": 1, \"high\": 9, \"step\": 0, \"default\": 3}]}"
#else
#define CM_TEST_SPACE_JSON "{\"parameters\": []}"
#endif

namespace {

void on_call() {
#ifdef CM_TEST_MUST_NOT_BE_CALLED
  std::abort();
#endif
}
cm_status ok() {
  cm_status status{};
  return status;
}
cm_method* const kMethod = reinterpret_cast<cm_method*>(const_cast<char*>("method"));
cm_status create(cm_method** out) {
  on_call();
  *out = kMethod;
  return ok();
}
void destroy(cm_method*) { on_call(); }
cm_status apply(cm_method*, cm_model*, const char*, cm_context*) {
  on_call();
  return ok();
}
cm_status space(const char** out_json) {
  on_call();
  *out_json = CM_TEST_SPACE_JSON;
  return ok();
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const cm_plugin_descriptor* cm_plugin_get_descriptor(void) {
  // A std::string in the descriptor's making, so the old-ABI build really uses the old std::string.
  static const std::string name = CM_TEST_NAME;
  static const cm_plugin_descriptor descriptor = {
      CM_TEST_ABI_VERSION, sizeof(cm_plugin_descriptor), name.c_str(), "0.3", CM_KIND_OTHER,
      "Test plugin: hand-written descriptor", CM_TEST_SDK_VERSION, CM_TEST_TORCH_VERSION,
      _GLIBCXX_USE_CXX11_ABI, nullptr, &create, &destroy, &apply, &space};
  return &descriptor;
}
