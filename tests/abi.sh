#!/bin/sh
# abi.sh — the shared library exports exactly the functions that
# include/idgraph.h declares: no internal idg__ name, no C++ template
# instance, and nothing the header promises missing.
#
#   usage: abi.sh /path/to/libidgraph.so /path/to/idgraph.h
set -u
export LC_ALL=C

LIB=${1:?usage: abi.sh LIBRARY HEADER}
HDR=${2:?usage: abi.sh LIBRARY HEADER}
. "$(dirname "$0")/checks.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/idgraph-abi.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# Declared: idg_NAME( outside comment lines.
grep -v '^[[:space:]]*\(\*\|/\*\)' "$HDR" | grep -o '\bidg_[a-z][a-z0-9_]*(' |
	tr -d '(' | sort -u >"$T/declared"
# Exported: the dynamic symbols the library defines (versions cut off).
if ! nm -D --defined-only "$LIB" >"$T/nm" 2>"$T/err"; then
	ko "nm reads the library" "$(cat "$T/err")"
	checks_done
	exit
fi
awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' "$T/nm" | sort -u >"$T/exported"

if [ "$(wc -l <"$T/declared")" -gt 30 ]; then
	ok "the header declares the API ($(wc -l <"$T/declared") functions)"
else
	ko "the header declares the API" "only $(wc -l <"$T/declared") found"
fi
extra=$(comm -13 "$T/declared" "$T/exported")
if [ -z "$extra" ]; then
	ok "the library exports nothing the header does not declare"
else
	ko "the library exports nothing the header does not declare" "$extra"
fi
missing=$(comm -23 "$T/declared" "$T/exported")
if [ -z "$missing" ]; then
	ok "the library exports every function the header declares"
else
	ko "the library exports every function the header declares" "$missing"
fi
checks_done
