#!/bin/sh
# Installs what is missing, builds, and runs every test: the command that
# README gives and CI runs first. Extra arguments go to `meson setup`
# (CI adds -Db_sanitize=address,undefined -Dwerror=true, -Dhash_bits=4).
set -eu
cd "$(dirname "$0")/.."
./tools/install-deps.sh
dir=${IDGRAPH_BUILD_DIR:-build-test}
if [ -f "$dir/build.ninja" ]; then
	meson setup --reconfigure "$dir" "$@" >/dev/null
else
	meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir"
meson test -C "$dir" --print-errorlogs
