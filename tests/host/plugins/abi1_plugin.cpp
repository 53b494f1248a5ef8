// A plugin as the SDK of ABI 1 built it: the ABI 1 descriptor (the space JSON as a string at offset 64,
// no get_space_json; 96 bytes), written out here because the current header describes ABI 2. The
// host must reject it by name from the fields every ABI shares, calling nothing: every function aborts.
#include "compactmind/version.h"

#include <cstdint>
#include <cstdlib>

namespace {

struct Abi1Status {
  int32_t code;
  char message[1024];
};

struct Abi1Descriptor {
  uint32_t abi_version;
  uint32_t struct_size;
  const char* name;
  const char* version;
  int32_t kind;
  const char* description;
  const char* sdk_version;
  const char* torch_version;
  int32_t cxx11_abi;
  const char* space_json;
  Abi1Status (*create_method)(void** out);
  void (*destroy_method)(void* method);
  Abi1Status (*apply)(void* method, void* model, const char* params_json, void* context);
};
static_assert(sizeof(Abi1Descriptor) == 96, "ABI 1 size");

Abi1Status create(void**) { std::abort(); }
void destroy(void*) { std::abort(); }
Abi1Status apply(void*, void*, const char*, void*) { std::abort(); }

constexpr Abi1Descriptor kDescriptor = {1, sizeof(Abi1Descriptor), "old-abi", "0.9", 4,
                                        "Test plugin: built for plugin ABI 1", COMPACTMIND_SDK_VERSION,
                                        COMPACTMIND_TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI,
                                        "{\"parameters\": []}", &create, &destroy, &apply};

}  // namespace

extern "C" __attribute__((visibility("default"))) const Abi1Descriptor* cm_plugin_get_descriptor(void) {
  return &kDescriptor;
}
