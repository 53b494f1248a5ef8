/* CompactMind plugin ABI — the one plain-C contract between the host and a plugin library.
 *
 * A plugin library exports exactly one symbol, `cm_plugin_get_descriptor`, returning a pointer to a
 * descriptor that is constant data (no code runs to make it). The host reads `abi_version` and
 * `struct_size` before anything else, then the build fingerprint (SDK series, LibTorch version, C++
 * ABI); only when those match does it call any function pointer — the space (get_space_json) first,
 * then the factory — whose opaque handles are the SDK's C++ objects. Rules: docs/abi.md.
 * Strings are UTF-8, NUL-terminated, owned by the plugin and valid for the life of the process. */
#ifndef COMPACTMIND_PLUGIN_ABI_H
#define COMPACTMIND_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped only for changes that are not "append a field at the end" (docs/abi.md). ABI 2: the space
 * moved from a string made by SDK code when the descriptor was asked for to get_space_json. */
#define CM_ABI_VERSION 2u

/* The exported entry point's name, as the host looks it up. */
#define CM_PLUGIN_ENTRY_POINT "cm_plugin_get_descriptor"

typedef enum cm_plugin_kind {
  CM_KIND_PRUNING = 1,
  CM_KIND_QUANTIZATION = 2,
  CM_KIND_RETRAINING = 3,
  CM_KIND_OTHER = 4
} cm_plugin_kind;

/* Fixed-size status returned by value: no allocation crosses the boundary, so nobody frees it. */
#define CM_STATUS_MESSAGE_CAPACITY 1024
typedef struct cm_status {
  int32_t code; /* 0 = ok; anything else = failure described by message (since ABI 1) */
  char message[CM_STATUS_MESSAGE_CAPACITY]; /* UTF-8, NUL-terminated, truncated to fit (since ABI 1) */
} cm_status;

/* Opaque handles. Behind them: compactmind::Method, compactmind::LlamaModel and
 * compactmind::MethodContext (sdk/include/compactmind/). Only used after the build-fingerprint check. */
typedef struct cm_method cm_method;
typedef struct cm_model cm_model;
typedef struct cm_context cm_context;

/* The first four fields (abi_version, struct_size, name, version) are frozen for EVERY ABI version,
 * not only ABI 1: a host can always name the plugin whose ABI it rejects (docs/abi.md). */
typedef struct cm_plugin_descriptor {
  uint32_t abi_version; /* CM_ABI_VERSION the plugin was built with; never moves (since ABI 1) */
  uint32_t struct_size; /* sizeof(cm_plugin_descriptor) at build time; gates appended fields (since ABI 1) */
  const char* name;          /* unique plugin name, [A-Za-z0-9_.-]+, e.g. "smoothquant"; plugin-owned; never moves (since ABI 1) */
  const char* version;       /* plugin's own version, e.g. "1.0.0"; plugin-owned; never moves (since ABI 1) */
  int32_t kind;              /* a cm_plugin_kind value (since ABI 1) */
  const char* description;   /* one line for people; plugin-owned (since ABI 1) */
  const char* sdk_version;   /* compactmind SDK version built against, "MAJOR.MINOR.PATCH" (since ABI 1) */
  const char* torch_version; /* LibTorch version built against, e.g. "1.13.0" (since ABI 1) */
  int32_t cxx11_abi;         /* value of _GLIBCXX_USE_CXX11_ABI at build time (since ABI 1) */
  /* ABI 1's space JSON, which SDK code had to build before the host could check anything. Kept so that
   * no field moves; NULL and never read since ABI 2 (the space comes from get_space_json). */
  const char* unused_abi1_space_json; /* since ABI 1, unused since ABI 2 */
  /* Creates the method object; *out is owned by the plugin and released with destroy_method. */
  cm_status (*create_method)(cm_method** out); /* since ABI 1 */
  void (*destroy_method)(cm_method* method);   /* since ABI 1 */
  /* Applies the method in place to model. params_json: a JSON object with every declared parameter
   * resolved (defaults filled in by the host). Never throws. */
  cm_status (*apply)(cm_method* method, cm_model* model, const char* params_json,
                     cm_context* context); /* since ABI 1 */
  /* ---- End of ABI version 1 ---- */
  /* Sets *out_json to the declared hyperparameter space, JSON text (docs/abi.md): plugin-owned,
   * static, UTF-8. A failure status says why the space could not be declared. The host calls it only
   * after the ABI and fingerprint checks. Never throws. (since ABI 2) */
  cm_status (*get_space_json)(const char** out_json);
  /* ---- End of ABI version 2 — append below only, gated by struct_size. ---- */
} cm_plugin_descriptor;

typedef const cm_plugin_descriptor* (*cm_plugin_get_descriptor_fn)(void);

/* Whether the plugin's descriptor is large enough to hold `field`: how a host reads a field appended
 * after the plugin was built (an older plugin's descriptor ends before it; the field's default applies). */
#define CM_DESCRIPTOR_HAS(descriptor, field) \
  ((descriptor)->struct_size >= offsetof(cm_plugin_descriptor, field) + sizeof((descriptor)->field))

#ifdef __cplusplus
} /* extern "C" */

/* Freeze the layout: ABI 2 is ABI 1's fields, unmoved, plus get_space_json; moving any is an ABI break. */
static_assert(offsetof(cm_plugin_descriptor, abi_version) == 0, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, struct_size) == 4, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, name) == 8, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, version) == 16, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, kind) == 24, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, description) == 32, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, sdk_version) == 40, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, torch_version) == 48, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, cxx11_abi) == 56, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, unused_abi1_space_json) == 64, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, create_method) == 72, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, destroy_method) == 80, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, apply) == 88, "ABI 1 layout");
static_assert(offsetof(cm_plugin_descriptor, get_space_json) == 96, "ABI 2 layout");
static_assert(sizeof(cm_plugin_descriptor) == 104, "ABI 2 size");
#endif

#endif /* COMPACTMIND_PLUGIN_ABI_H */
