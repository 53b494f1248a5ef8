// A plugin calling a function its SDK does not have, as one built against a newer SDK would: the
// loader (RTLD_NOW) refuses it and the host names the missing function.
#include "compactmind/contract/plugin_abi.h"

namespace compactmind {
int function_from_a_newer_sdk();  // declared, defined nowhere
}

extern "C" __attribute__((visibility("default"))) const cm_plugin_descriptor* cm_plugin_get_descriptor(void) {
  return compactmind::function_from_a_newer_sdk() ? nullptr : nullptr;
}
