#!/bin/sh
# The main job on the bundled sample: install what is missing, build,
# ingest samples/demo.jsonl into a fresh database, then show a resolved
# cluster, the chain of merges behind it (explain), the identity log and
# the identity mappings export.
set -eu
cd "$(dirname "$0")/.."
./tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
idgraph=./build/tools/idgraph
db=${IDGRAPH_DEMO_DB:-demo.idgraph}
rm -rf "$db"
$idgraph init "$db"
echo "== ingest samples/demo.jsonl (3 bad lines are reported and set aside in demo.rejects.jsonl)"
$idgraph ingest "$db" samples/demo.jsonl --rejects demo.rejects.jsonl
echo
echo "== resolve the anonymous id of alice's phone"
$idgraph resolve "$db" '$device:d23f0824-128b-4f33-8c5c-7fd0a6a3a450'
echo
echo "== explain: the chain of merges from alice's phone to her web browser"
$idgraph explain "$db" '$device:d23f0824-128b-4f33-8c5c-7fd0a6a3a450' \
	'$device:6513270e-269e-4d37-b2a7-4de452e6b438'
echo
echo "== identity log (Mixpanel's Live View of \$identify, \$create_alias, \$merge)"
$idgraph log "$db"
echo
echo "== export mappings (mp_identity_mappings_data)"
$idgraph export mappings "$db"
