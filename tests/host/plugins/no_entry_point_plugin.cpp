// A shared library named like a plugin that exports no cm_plugin_get_descriptor (a misspelt one).
#include "compactmind/contract/plugin_abi.h"

extern "C" __attribute__((visibility("default"))) const cm_plugin_descriptor* cm_plugin_get_descriptors(void) {
  return nullptr;
}
