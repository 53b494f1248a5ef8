#include "compactmind/host/command.h"

namespace compactmind::host {

std::vector<CommandSetup>& registered_commands() {
  // Function-local static: registrars in other files run during static initialisation, in any order.
  static std::vector<CommandSetup> commands;
  return commands;
}

}  // namespace compactmind::host
