# compactmind_add_plugin(<name> <sources>...)
# Builds a method plugin `libcm-<name>.so` against the SDK: only the C entry point is exported
# (hidden visibility, and a version script for what headers would still export), the SDK and LibTorch
# are linked, and the library is named with the pattern the host's discovery matches
# (docs/plugin-authoring.md). Used in-tree and, through find_package(CompactMind), by third parties.
set(_COMPACTMIND_PLUGIN_VERSION_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/compactmind_plugin.map")
function(compactmind_add_plugin name)
  set(target "cm-${name}")
  add_library(${target} MODULE ${ARGN})
  if(TARGET CompactMind::sdk)
    target_link_libraries(${target} PRIVATE CompactMind::sdk)
  else()
    target_link_libraries(${target} PRIVATE compactmind_sdk)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${_COMPACTMIND_PLUGIN_VERSION_SCRIPT}")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${_COMPACTMIND_PLUGIN_VERSION_SCRIPT}")
  if(DEFINED COMPACTMIND_BUILD_PLUGIN_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${COMPACTMIND_BUILD_PLUGIN_DIR}")
  endif()
  if(DEFINED COMPACTMIND_INSTALL_PLUGIN_DIR AND COMPACTMIND_INSTALL_BUILTIN_PLUGINS)
    # Installed in <libdir>/compactmind/plugins: the SDK library is two folders up.
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
    install(TARGETS ${target} LIBRARY DESTINATION "${COMPACTMIND_INSTALL_PLUGIN_DIR}")
  endif()
endfunction()
