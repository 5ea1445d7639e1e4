#!/bin/sh
# Installs what is missing, builds, and runs every test: the command that
# README gives and CI runs first. Extra arguments go to `meson setup`
# (CI adds -Db_sanitize=address,undefined -Dwerror=true, -Dhash_bits=4).
set -eu
cd "$(dirname "$0")/.."
./tools/install-deps.sh
dir=${IDGRAPH_BUILD_DIR:-build-test}
if [ -f "$dir/build.ninja" ]; then
	set -- --reconfigure "$@"
fi
if ! meson setup "$dir" "$@" >"${TMPDIR:-/tmp}/idgraph-setup.log" 2>&1; then
	cat "${TMPDIR:-/tmp}/idgraph-setup.log" >&2
	exit 1
fi
ninja -C "$dir"
meson test -C "$dir" --print-errorlogs
