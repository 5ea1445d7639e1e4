#!/usr/bin/env bash
# bench_smoke.sh — checks the results of `idgraph gen` and `idgraph bench`,
# never their speed.
#
#   usage: bench_smoke.sh /path/to/idgraph [EVENTS]
#
# The generator: the same seed gives the same bytes (JSON lines and
# MessagePack), another seed other bytes; a stream without --noise is
# ingested with no reject, one with --noise has rejects and duplicates.
# The bench (EVENTS records, default 20000, one run): the in-memory
# union-find fed the merges of the engine's identity log has exactly the
# engine's clusters, ingest counts equal the generated counts, and the
# JSONL and MessagePack ingests give the same counts and graph.
#
# Every check prints "ok - ..." or "FAIL - ..."; the script ends with
# "N passed, M failed" and exits non-zero when M > 0.
set -u
export LC_ALL=C

BIN=${1:?usage: bench_smoke.sh /path/to/idgraph [EVENTS]}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
EVENTS=${2:-20000}
T=$(mktemp -d "${TMPDIR:-/tmp}/idgraph-bench-smoke.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

. "$(dirname "$0")/checks.sh"

# check NAME COMMAND...: ok when the command succeeds.
check() {
  local name=$1
  shift
  if "$@" >"$T/check.out" 2>&1; then ok "$name"; else
    ko "$name" "$(cat "$T/check.out")"
  fi
}

# ingest_json FILE: ingests FILE into a fresh database; the --json summary
# in $T/ingest.json.
ingest_json() {
  rm -rf "$T/db"
  "$BIN" init "$T/db" >/dev/null &&
    "$BIN" ingest "$T/db" "$1" --quiet --json >"$T/ingest.json" 2>"$T/ingest.err"
}

# field FILE EXPR: prints the Python expression EXPR of the JSON object d.
field() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- the generator ----

"$BIN" gen --events 3000 --seed 7 >"$T/a.jsonl"
"$BIN" gen --events 3000 --seed 7 >"$T/b.jsonl"
"$BIN" gen --events 3000 --seed 8 >"$T/c.jsonl"
check "gen: same seed, same bytes" cmp "$T/a.jsonl" "$T/b.jsonl"
if cmp -s "$T/a.jsonl" "$T/c.jsonl"; then
  ko "gen: another seed gives other bytes"
else ok "gen: another seed gives other bytes"; fi
check "gen: 3000 lines" test "$(wc -l <"$T/a.jsonl")" -eq 3000
check "gen: every line is a JSON object" python3 -c 'import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    assert isinstance(json.loads(line), dict), n' "$T/a.jsonl"

"$BIN" gen --events 3000 --seed 7 --format msgpack >"$T/a.mp"
"$BIN" gen --events 3000 --seed 7 --format msgpack >"$T/b.mp"
check "gen msgpack: same seed, same bytes" cmp "$T/a.mp" "$T/b.mp"

if ingest_json "$T/a.jsonl"; then
  check "gen: a stream without noise has no reject" \
    test "$(field "$T/ingest.json" 'd["rejected"]')" = 0
  check "gen: every record ingested" \
    test "$(field "$T/ingest.json" 'd["records"]')" = 3000
  check "gen: identity events merge" \
    test "$(field "$T/ingest.json" 'd["outcomes"]["merged"] > 0')" = True
  cp "$T/ingest.json" "$T/jsonl.json"
else
  ko "gen: ingest of a stream without noise" "$(cat "$T/ingest.err")"
fi
# In the other modes $merge is a plain event, which needs its distinct_id.
for mode in simplified legacy; do
  rm -rf "$T/db"
  if "$BIN" init "$T/db" --mode "$mode" >/dev/null &&
    "$BIN" ingest "$T/db" "$T/a.jsonl" --quiet --json >"$T/mode.json" \
      2>"$T/ingest.err"; then
    check "gen: no reject in $mode mode either" \
      test "$(field "$T/mode.json" 'd["rejected"]')" = 0
  else
    ko "gen: ingest in $mode mode" "$(cat "$T/ingest.err")"
  fi
done
if ingest_json "$T/a.mp"; then
  check "gen msgpack: same counts as JSON lines" python3 -c 'import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for k in ("records", "rejected", "events", "identity_events",
          "nodes_created", "outcomes", "duplicates"):
    assert a[k] == b[k], (k, a[k], b[k])' "$T/jsonl.json" "$T/ingest.json"
else
  ko "gen msgpack: ingest" "$(cat "$T/ingest.err")"
fi

"$BIN" gen --events 20000 --noise >"$T/noise.jsonl"
if ingest_json "$T/noise.jsonl"; then
  check "gen --noise: rejects" \
    test "$(field "$T/ingest.json" 'd["rejected"] > 0')" = True
  check "gen --noise: duplicates" \
    test "$(field "$T/ingest.json" 'd["duplicates"] > 0')" = True
  check "gen --noise: every record read" \
    test "$(field "$T/ingest.json" 'd["records"]')" = 20000
else
  ko "gen --noise: ingest" "$(cat "$T/ingest.err")"
fi

if "$BIN" gen --events 5000 --noise --format msgpack >"$T/noise.mp" \
  2>"$T/gen.err"; then
  ok "gen --noise --format msgpack"
else
  ko "gen --noise --format msgpack" "$(cat "$T/gen.err")"
fi
if ingest_json "$T/noise.mp"; then
  check "gen --noise --format msgpack: rejects" \
    test "$(field "$T/ingest.json" 'd["rejected"] > 0')" = True
  check "gen --noise --format msgpack: every record read" \
    test "$(field "$T/ingest.json" 'd["records"]')" = 5000
else
  ko "gen --noise --format msgpack: ingest" "$(cat "$T/ingest.err")"
fi

"$BIN" gen --seed 1 >/dev/null 2>&1
check "gen without --events: usage error" test $? -eq 2

# ---- the bench ----

"$BIN" bench --events "$EVENTS" --runs 1 --json >"$T/bench.json" 2>"$T/bench.err"
rc=$?
if [ $rc -ne 0 ]; then
  ko "bench: exit $rc" "$(cat "$T/bench.err" "$T/bench.json")"
fi
if python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/bench.json" \
  2>/dev/null; then
  ok "bench: one JSON object"
  B=$T/bench.json
  check "bench: union-find of the log's merges = engine clusters" \
    test "$(field "$B" 'd["checks"]["uf_matches_engine"]')" = True
  check "bench: the union-find has the engine's clusters" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
g, s = d["graph"], d["graph_stats"]["jsonl"]
assert g["merged_edges"] > 0, g
assert g["clusters"] == s["clusters"], (g, s)
assert g["largest_cluster"] == s["largest_cluster"], (g, s)' "$B"
  check "bench: ingest counts = generated counts" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
w, j = d["workload"], d["ingest_stats"]["jsonl"]
assert d["checks"]["counts_match"] is True
assert w["records"] == int(sys.argv[2]) == j["records"], (w, j)
assert j["rejected"] == 0, j
assert w["events"] == j["events"], (w, j)
assert w["identity_events"] == j["identity_events"], (w, j)
assert w["profile_updates"] == j["profile_updates"], (w, j)' "$B" "$EVENTS"
  check "bench: JSONL and MessagePack ingests give the same graph" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["checks"]["msgpack_matches_jsonl"] is True
assert d["graph_stats"]["jsonl"] == d["graph_stats"]["msgpack"]
assert d["ingest_stats"]["jsonl"] == d["ingest_stats"]["msgpack"]' "$B"
  check "bench: one thread and two give the same ingest" \
    test "$(field "$B" 'd["checks"]["one_thread_matches"]')" = True
  check "bench: the identity events alone make the same clusters" \
    test "$(field "$B" 'd["checks"]["identity_replay_matches"]')" = True
  check "bench: parse-only measured" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("jsonl_ingest", "msgpack_ingest"):
    assert d[k]["baseline_seconds"] is not None, d["skipped"]
    assert d[k]["seconds"] > 0 and d[k]["ratio"] > 0, d[k]' "$B"
  check "bench: where the ingest time goes, both stages" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("jsonl", "msgpack"):
    t = d["stages"][k]
    assert sorted(t) == ["apply_busy", "apply_wait", "commit_seconds",
                         "parse_busy", "parse_wait"], t
    assert t["parse_busy"] > 0 and t["apply_busy"] > 0, t
    assert t["commit_seconds"] > 0 and t["apply_wait"] >= 0, t' "$B"
  check "bench: the export wrote every stored event" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
x, j = d["export"], d["ingest_stats"]["jsonl"]
assert d["checks"]["export_matches_events"] is True
assert x["events"] == j["events"] - j["duplicates"] > 0, (x, j)
assert x["seconds"] > 0 and x["ratio"] > 0, x' "$B"
  check "bench: the store-only copy holds the JSONL database" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["store_only"]
assert d["checks"]["store_only_matches"] is True
assert s["lmdb_records"] > d["graph_stats"]["jsonl"]["distinct_ids"], s
assert s["seconds"] > 0 and s["jsonl_ingest_ratio"] > 0, s
assert len(d["samples"]["store_only"]) == d["runs"], d["samples"]' "$B"
  check "bench: networkx and SQLite agree when present" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("networkx_matches", "sqlite_matches"):
    assert d["checks"][k] in (True, None), (k, d["checks"][k])' "$B"
  check "bench: reports answered" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["uniques_users"] > 0 and d["uniques_events"] > 0
f = d["funnel_users"]
assert len(f) == 3 and f[0] >= f[1] >= f[2] and f[0] > 0, f' "$B"
else
  ko "bench: one JSON object" "$(cat "$T/bench.err" "$T/bench.json")"
fi

checks_done
