// SentencePiece, loaded in isolation (private to the SDK).
//
// Why not simply link it: Debian's libsentencepiece.so.0 carries its own copy of protobuf-lite and
// exports those symbols, while LibTorch loads the system libprotobuf.so.32. Linked into one process,
// each library's protobuf calls bind to the other's copy and the process crashes during static
// initialisation (measured here: SIGSEGV in ReflectionOps::FindInitializationErrors before main).
// dlopen with RTLD_LOCAL keeps SentencePiece's symbols out of the global scope, and RTLD_DEEPBIND makes
// it bind to its own protobuf first. Its C++ API is then reached through the virtual functions of
// SentencePieceProcessor (vtable calls need no link-time symbol) plus three functions looked up by name.
#pragma once

#include <sentencepiece_processor.h>

#include <memory>
#include <string>

namespace compactmind::detail {

class SentencePieceLibrary {
 public:
  // Loaded once per process and never unloaded; throws naming the library file when it cannot load.
  static const SentencePieceLibrary& instance();

  using ProcessorPointer =
      std::unique_ptr<sentencepiece::SentencePieceProcessor, void (*)(sentencepiece::SentencePieceProcessor*)>;
  // A new, empty processor; deleted through its virtual destructor by the pointer's deleter.
  ProcessorPointer create_processor() const;

  // Runs `call` (returning util::Status by value) and throws "<what>: <status message>" on failure.
  // The status is built in place (C++17 guaranteed elision) and destroyed through the library, so this
  // file never references a SentencePiece symbol at link time.
  template <typename Call>
  void check(Call&& call, const std::string& what) const {
    using sentencepiece::util::Status;
    alignas(Status) unsigned char storage[sizeof(Status)];
    Status* status = new (storage) Status(call());
    const bool ok = status->ok();
    const std::string message = ok ? std::string() : status_to_string_(status);
    destroy_status_(status);
    if (!ok) throw_error(what + ": " + message);
  }

 private:
  SentencePieceLibrary();
  [[noreturn]] static void throw_error(const std::string& message);

  void (*construct_processor_)(void*) = nullptr;
  void (*destroy_status_)(sentencepiece::util::Status*) = nullptr;
  std::string (*status_to_string_)(const sentencepiece::util::Status*) = nullptr;
};

}  // namespace compactmind::detail
