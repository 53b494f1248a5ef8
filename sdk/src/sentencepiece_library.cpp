#include "sentencepiece_library.h"

#include <dlfcn.h>

#include <new>
#include <stdexcept>

namespace compactmind::detail {
namespace {

using sentencepiece::SentencePieceProcessor;

// Itanium C++ ABI names of the three non-virtual functions the SDK needs.
constexpr const char* kProcessorConstructor = "_ZN13sentencepiece22SentencePieceProcessorC1Ev";
constexpr const char* kStatusDestructor = "_ZN13sentencepiece4util6StatusD1Ev";
constexpr const char* kStatusToString = "_ZNK13sentencepiece4util6Status8ToStringB5cxx11Ev";

void* open_library(std::string& tried) {
  // The file found at configure time first, then the SONAME through the loader's search path.
  for (const char* name : {COMPACTMIND_SENTENCEPIECE_LIBRARY, "libsentencepiece.so.0"}) {
    if (void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)) return handle;
    tried += std::string(tried.empty() ? "" : "; ") + dlerror();
  }
  return nullptr;
}

template <typename Function>
Function lookup(void* handle, const char* symbol) {
  void* address = dlsym(handle, symbol);
  if (address == nullptr) {
    throw std::runtime_error(std::string("SentencePiece library lacks '") + symbol +
                             "': it is not the C++ API this SDK was built against (sentencepiece_processor.h)");
  }
  return reinterpret_cast<Function>(address);
}

void delete_processor(SentencePieceProcessor* processor) {
  processor->~SentencePieceProcessor();  // virtual: runs the library's destructor
  ::operator delete(processor);
}

}  // namespace

SentencePieceLibrary::SentencePieceLibrary() {
  std::string tried;
  void* handle = open_library(tried);
  if (handle == nullptr) {
    throw std::runtime_error("cannot load SentencePiece (" + tried +
                             "); install libsentencepiece0 (scripts/setup.sh)");
  }
  construct_processor_ = lookup<void (*)(void*)>(handle, kProcessorConstructor);
  // A member function's ABI is that of a free function taking `this` first (Itanium C++ ABI).
  destroy_status_ = lookup<void (*)(sentencepiece::util::Status*)>(handle, kStatusDestructor);
  status_to_string_ = lookup<std::string (*)(const sentencepiece::util::Status*)>(handle, kStatusToString);
}

const SentencePieceLibrary& SentencePieceLibrary::instance() {
  static const SentencePieceLibrary library;
  return library;
}

SentencePieceLibrary::ProcessorPointer SentencePieceLibrary::create_processor() const {
  void* storage = ::operator new(sizeof(SentencePieceProcessor));
  try {
    construct_processor_(storage);
  } catch (...) {
    ::operator delete(storage);
    throw;
  }
  return {static_cast<SentencePieceProcessor*>(storage), &delete_processor};
}

void SentencePieceLibrary::throw_error(const std::string& message) { throw std::runtime_error(message); }

}  // namespace compactmind::detail
