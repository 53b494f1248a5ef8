#!/bin/sh
# Guards the plugin boundary's symbol lists (docs/abi.md) with nm and readelf, as a ctest:
#   check_exported_symbols.sh EXPECTED_SONAME SDK_LIBRARY PLUGIN_LIBRARY...
# The SDK library's SONAME must be EXPECTED_SONAME (the compatibility series), and every plugin
# library must export exactly one defined dynamic symbol, the entry point cm_plugin_get_descriptor.
set -eu
expected_soname=$1
sdk_library=$2
shift 2
status=0

soname=$(readelf -d "$sdk_library" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$soname" != "$expected_soname" ]; then
  echo "$sdk_library: SONAME is '$soname', expected '$expected_soname'"
  status=1
fi

for plugin in "$@"; do
  exported=$(nm -D --defined-only --format=posix "$plugin" | cut -d' ' -f1)
  if [ "$exported" != "cm_plugin_get_descriptor" ]; then
    echo "$plugin exports more than its entry point cm_plugin_get_descriptor:"
    echo "$exported" | sed 's/^/  /'
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "SONAME $soname; $# plugins export only cm_plugin_get_descriptor"
exit "$status"
