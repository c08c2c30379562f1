#!/usr/bin/env bash
# tools/make_source_tarball.sh [OUT_DIR] - the small source tarball for FetchContent (URL) and
# add_subdirectory: facepost-<version>.tar.gz with the headers, the CMake files, docs, README and
# LICENSE; no tests, fixtures, model or photo (a clone is ~24 MB, this ~140 KB). Configured on its
# own or as a subproject, it builds and installs the library; the tests, tools and examples, whose
# folders it lacks, are skipped. The version is project(VERSION) of CMakeLists.txt.
# In a git checkout it packs the tracked and untracked-but-not-ignored files of the working tree.
# OUT_DIR defaults to dist/. Prints the tarball's path and size.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/dist}
version=$(sed -n 's/^project(facepost VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
if [ -z "$version" ]; then
  echo "error: no project(facepost VERSION ...) in $root/CMakeLists.txt" >&2
  exit 1
fi
paths=(CMakeLists.txt LICENSE README.md cmake docs include)
name=facepost-$version
mkdir -p "$out"
out=$(cd "$out" && pwd)
list=$(mktemp)
trap 'rm -f "$list"' EXIT
cd "$root"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  git ls-files -co --exclude-standard -- "${paths[@]}" | while read -r f; do [ -f "$f" ] && echo "$f"; done |
    sort > "$list"
else
  find "${paths[@]}" -type f | sort > "$list"
fi
# Reproducible: fixed order, owner and time (the last commit's, else 0), no gzip timestamp.
mtime=$(git log -1 --format=%ct 2> /dev/null || echo 0)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" --transform "s,^,$name/," \
  --files-from="$list" -cf - | gzip -n -9 > "$out/$name.tar.gz"
echo "$out/$name.tar.gz: $(stat -c %s "$out/$name.tar.gz") bytes, $(wc -l < "$list") files"
