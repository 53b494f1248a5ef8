#!/usr/bin/env bash
# Installs the Debian packages CompactMind needs (idempotent), then configures and builds it
# (Release, Ninja) into ./build. Usage: scripts/setup.sh [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Every package the build, the tests and the benchmarks need, named here: the script installs with
# --no-install-recommends, so what a -dev package only *recommends* is never pulled in by accident
# (scripts/check-dependencies.sh verifies, after configure, that every file CMake found comes from
# one of these packages or their hard dependencies).
PACKAGES=(
  # toolchain (ccache: cheap rebuilds after branch switches on a 2-core machine)
  build-essential cmake ninja-build pkg-config git ccache
  # LibTorch (CPU), the BLAS it calls and the oneDNN the int8 kernels call
  libtorch-dev libopenblas0-pthread libdnnl-dev
  # host, SDK and tests
  libboost-dev nlohmann-json3-dev libspdlog-dev libcli11-dev catch2 libsentencepiece-dev
  # tokenizer.json pre-tokenizer regexes (\p{L}, \p{N}: std::regex has no Unicode classes)
  libpcre2-dev
  # study storage: SQLite files; PostgreSQL client library, and the server the tests start a cluster of
  libsqlite3-dev libpq-dev postgresql
)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # libopenblas0-pthread matters: without it libblas.so.3 is the reference BLAS, ~20x slower.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

JOBS="${JOBS:-$(nproc)}"
# ccache makes rebuilds after a branch switch (and across worktrees) cheap on a 2-core machine.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@"
cmake --build build -j "$JOBS"
