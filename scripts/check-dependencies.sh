#!/usr/bin/env bash
# Fails loudly when a configured and built tree uses a file from a Debian package that scripts/setup.sh
# does not install: every header the compiler read (ninja's dependency log), every library linked and
# every file CMake's find_* calls found (CMakeCache) must belong to a package setup.sh names or to a
# hard dependency (Depends/Pre-Depends) of one: a package that is only *recommended* does not count,
# because setup.sh installs with --no-install-recommends (the libdnnl-dev -> OpenCL lesson).
# Usage: scripts/check-dependencies.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
[ -f "$BUILD/build.ninja" ] || { echo "check-dependencies: $BUILD is not a Ninja build tree" >&2; exit 2; }

mapfile -t named < <(sed -n '/^PACKAGES=(/,/^)/p' scripts/setup.sh | grep -v '^ *#' | sed '1d;$d' | tr ' ' '\n' | sed '/^$/d')
allowed="$(mktemp)"; used="$(mktemp)"; owners="$(mktemp)"
trap 'rm -f "$allowed" "$used" "$owners" "$owners.all" "$used.keys"' EXIT
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances "${named[@]}" | grep -v '^ ' | sed 's/:.*//' | sort -u >"$allowed"

{
  ninja -C "$BUILD" -t deps | sed -n 's/^    \(\/.*\)/\1/p'
  grep -o '/usr/[^ ;"]*\.\(so\|a\)\(\.[0-9.]*\)\?' "$BUILD/build.ninja"
  sed -n 's/^[^#/][^=]*:\(FILEPATH\|PATH\)=\(\/usr\/.*\)/\2/p' "$BUILD/CMakeCache.txt"
} | grep '^/usr/' | grep -v '^/usr/local/' | sort -u >"$used"

# Owner of every packaged file, from dpkg's own lists (one pass, instead of a dpkg -S per file).
# Merged /usr: a package may ship /lib/x or /usr/lib/x for the same file, so both spellings are keys.
for list in /var/lib/dpkg/info/*.list; do
  package="$(basename "$list" .list)"; package="${package%%:*}"
  awk -v p="$package" '{ print $0 "\t" p; if ($0 ~ /^\/(lib|lib64|bin|sbin)\//) print "/usr" $0 "\t" p }' "$list"
done >"$owners.all"
# Each used file is looked up as written and by its real path (libfoo.so -> libfoo.so.1.2).
while read -r file; do
  printf '%s\t%s\n' "$file" "$file"
  printf '%s\t%s\n' "$(readlink -f "$file" 2>/dev/null || echo "$file")" "$file"
done <"$used" >"$used.keys"
awk -F'\t' 'NR == FNR { owner[$1] = $2; next } ($1 in owner) { print owner[$1] " " $2 }' \
  "$owners.all" "$used.keys" | sort -u >"$owners"
rm -f "$owners.all" "$used.keys"

missing=0
while read -r package file; do
  if ! grep -qx "$package" "$allowed"; then
    echo "check-dependencies: $file comes from '$package', which scripts/setup.sh does not install (add it to PACKAGES)"
    missing=1
  fi
done <"$owners"
echo "check-dependencies: $(wc -l <"$used") files used, from $(cut -d' ' -f1 "$owners" | sort -u | wc -l) packages (+ unpackaged ones); ${#named[@]} named in setup.sh"
exit "$missing"
