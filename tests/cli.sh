#!/usr/bin/env bash
# cli.sh — drives the built idgraph binary and checks exact outputs and exit
# statuses.
#
#   usage: cli.sh /path/to/idgraph [/path/to/source_root]
#
# Every check prints one line ("ok - ..." or "FAIL - ..." with the details
# indented below it); the script ends with "N passed, M failed" and exits
# non-zero when M > 0. Each part works in its own database under a private
# temporary directory, removed on exit.
set -u
export LC_ALL=C

BIN=${1:?usage: cli.sh /path/to/idgraph [source_root]}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
SRC=${2:-$(dirname "$0")/..}
T=$(mktemp -d "${TMPDIR:-/tmp}/idgraph-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

. "$(dirname "$0")/checks.sh"

# run ARGS...: runs idgraph; stdout in $T/out, stderr in $T/err, status in $rc.
run() {
  "$BIN" "$@" </dev/null >"$T/out" 2>"$T/err"
  rc=$?
}

# run_in FILE ARGS...: same, with FILE on stdin.
run_in() {
  local f=$1
  shift
  "$BIN" "$@" <"$f" >"$T/out" 2>"$T/err"
  rc=$?
}

# expect_rc NAME STATUS: the last run exited with STATUS.
expect_rc() {
  if [ "$rc" -eq "$2" ]; then ok "$1: exit $2"; else
    ko "$1: exit $rc, expected $2" "stderr: $(cat "$T/err")"
  fi
}

# expect_out NAME TEXT: the last run printed exactly TEXT (plus a final LF).
expect_out() {
  printf '%s\n' "$2" >"$T/want"
  if cmp -s "$T/want" "$T/out"; then ok "$1: output"; else
    ko "$1: output differs" "$(diff "$T/want" "$T/out"; cat "$T/err")"
  fi
}

# expect_err NAME TEXT: stderr is exactly the one line TEXT.
expect_err() {
  printf '%s\n' "$2" >"$T/want"
  if cmp -s "$T/want" "$T/err"; then ok "$1: message"; else
    ko "$1: message differs" "$(diff "$T/want" "$T/err")"
  fi
}

# expect_err_one NAME PREFIX: stderr is one line beginning with PREFIX.
expect_err_one() {
  local lines first
  lines=$(wc -l <"$T/err")
  first=$(head -n 1 "$T/err")
  if [ "$lines" -eq 1 ] && [ "${first#"$2"}" != "$first" ]; then
    ok "$1: one-line message"
  else
    ko "$1: expected one line starting with '$2'" "$(cat "$T/err")"
  fi
}

# expect_usage NAME ARGS...: a usage error: status 2, one "idgraph: " line.
expect_usage() {
  local name=$1
  shift
  run "$@"
  expect_rc "$name" 2
  expect_err_one "$name" "idgraph: "
}

# expect_json NAME: every line of the last stdout is valid JSON.
expect_json() {
  if [ -s "$T/out" ] && python3 -c \
    'import json,sys; [json.loads(l) for l in sys.stdin]' <"$T/out" \
    2>"$T/pyerr"; then
    ok "$1: valid JSON lines"
  else
    ko "$1: invalid JSON" "$(cat "$T/out" "$T/pyerr")"
  fi
}

# expect_json_has NAME JSON: the single JSON object printed holds every key
# of JSON with an equal value (keys of the output not in JSON are ignored).
cat >"$T/has.py" <<'EOF'
import json, sys
got = json.loads(sys.stdin.read())
want = json.loads(sys.argv[1])
bad = {k: got.get(k, "<missing>") for k in want if got.get(k) != want[k]}
if bad:
    print("differs:", json.dumps(bad), file=sys.stderr)
    sys.exit(1)
EOF
expect_json_has() {
  if python3 "$T/has.py" "$2" <"$T/out" 2>"$T/pyerr"; then
    ok "$1: JSON fields"
  else
    ko "$1: JSON fields" "$(cat "$T/pyerr" "$T/out")"
  fi
}

# jq_py EXPR: evaluates a Python expression over the JSON lines of the last
# stdout, bound as L (list of values) and d (the first one); prints it.
jq_py() {
  python3 -c 'import json,sys
L = [json.loads(l) for l in sys.stdin]
d = L[0] if L else None
print(eval(sys.argv[1]))' "$1" <"$T/out"
}

# expect_eq NAME GOT WANT
expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else
    ko "$1" "got:  $2"$'\n'"want: $3"
  fi
}

# Anonymous ids are real UUIDs (SPEC §2.4); t0 = 2024-05-01T12:00:00Z.
D1=87b652f0-de7f-4e97-9eff-cd697f928e3a
D2=ce2d15cf-d2ad-4572-9f35-35292481fc68
D3=b95837ca-a753-43af-b670-fe85c56b5e38
t0=1714564800

ev() { # ev NAME DISTINCT_ID TIME
  printf '{"event":"%s","properties":{"distinct_id":"%s","time":%s}}\n' \
    "$1" "$2" "$3"
}
identify() { # identify IDENTIFIED ANON TIME
  printf '{"event":"$identify","properties":{"distinct_id":"%s","$anon_distinct_id":"%s","time":%s}}\n' \
    "$1" "$2" "$3"
}
alias_ev() { # alias_ev ALIAS TARGET TIME
  printf '{"event":"$create_alias","properties":{"distinct_id":"%s","alias":"%s","time":%s}}\n' \
    "$2" "$1" "$3"
}
merge_ev() { # merge_ev A B TIME
  printf '{"event":"$merge","properties":{"$distinct_ids":["%s","%s"],"time":%s}}\n' \
    "$1" "$2" "$3"
}

###########################################################################
# help, version, usage errors

run --help
expect_rc "--help" 0
expect_eq "--help prints usage" "$(head -n 1 "$T/out")" \
  "usage: idgraph COMMAND [ARGS] [OPTIONS]"
for c in init ingest resolve cluster log explain export info version; do
  run "$c" --help
  expect_rc "$c --help" 0
  expect_eq "$c --help prints usage" "$(head -n 1 "$T/out" | cut -c1-$((15 + ${#c})))" \
    "usage: idgraph $c"
  cp "$T/out" "$T/help1"
  run help "$c"
  expect_rc "help $c" 0
  if cmp -s "$T/help1" "$T/out"; then ok "help $c = $c --help"; else
    ko "help $c differs from $c --help"
  fi
done
run export mappings --help
expect_rc "export mappings --help" 0
grep -q -- '--format' "$T/out" && ok "export help names --format" ||
  ko "export help names --format"
run resolve --help
grep -q 'ISO 8601' "$T/out" && ok "resolve help gives time formats" ||
  ko "resolve help gives time formats"
grep -q 'live (default' "$T/out" && ok "resolve help gives default view" ||
  ko "resolve help gives default view"

run version
expect_rc "version" 0
expect_out "version" "idgraph 0.6.0"

expect_usage "no command"
expect_usage "unknown command" frobnicate
expect_usage "help unknown command" help frobnicate
expect_usage "init without DIR" init
expect_usage "resolve without id" resolve "$T/db1"
expect_usage "resolve extra argument" resolve "$T/db1" a b
expect_usage "unknown option" resolve "$T/db1" X --bogus
expect_eq "unknown option message" "$(cat "$T/err")" \
  "idgraph: unknown option --bogus for resolve; see: idgraph resolve --help"
expect_usage "option without value" resolve "$T/db1" X --at
expect_usage "flag with value" log "$T/db1" --json=1
expect_usage "option of another command" log "$T/db1" --at 5
expect_usage "bad time" resolve "$T/db1" X --at yesterday
expect_usage "bad time offset" resolve "$T/db1" X --at 2024-05-01T12:00:00+02:00
expect_usage "negative time" resolve "$T/db1" X --at=-5
expect_eq "negative time message" "$(cat "$T/err")" \
  "idgraph: bad --at value '-5': negative times are not allowed"
for v in 1714564800000-5 20240501-1200; do
  expect_usage "not a date: $v" resolve "$T/db1" X --at=$v
  expect_eq "not a date: $v message" "$(cat "$T/err")" \
    "idgraph: bad --at value '$v': not a time: give epoch seconds, epoch milliseconds or ISO 8601 UTC (e.g. 2024-05-01T12:00:00Z)"
done
for d in -0001-01-01 10000-01-01; do
  expect_usage "year $d" resolve "$T/db1" X --at=$d
  expect_eq "year $d message" "$(cat "$T/err")" \
    "idgraph: bad --at value '$d': time out of range (1970-01-01 to 9999-12-31 UTC)"
done
expect_usage "bad date" resolve "$T/db1" X --at 2024-02-30
expect_usage "bad view" resolve "$T/db1" X --view sideways
expect_usage "bad mode" init "$T/dbx" --mode fancy
expect_usage "bad cluster cap" init "$T/dbx" --cluster-cap abc
expect_usage "negative cluster cap" init "$T/dbx" --cluster-cap -1
expect_usage "bad merge delay" init "$T/dbx" --merge-delay soon
expect_usage "negative merge delay" init "$T/dbx" --merge-delay -1
expect_err "negative merge delay" "idgraph: bad --merge-delay value '-1': \
negative; give seconds, e.g. 3600"
run report funnel "$T/db1" --steps a,b --window -5
expect_err "negative funnel window" "idgraph: bad --window value '-5': \
negative; give seconds, e.g. 86400 for a day"
[ ! -e "$T/dbx" ] && ok "usage error creates nothing" ||
  ko "usage error created $T/dbx"
expect_usage "bad batch size" ingest "$T/db1" --batch-size 0
expect_usage "bad clock" ingest "$T/db1" --clock sundial
expect_usage "bad format" export mappings "$T/db1" --format xml
expect_usage "unknown export" export users "$T/db1"

# A database that does not exist: status 1 and the init hint.
for c in resolve cluster; do
  run "$c" "$T/nodb" X
  expect_rc "$c on missing db" 1
  expect_err "$c on missing db" \
    "idgraph: no database at $T/nodb; create one with: idgraph init $T/nodb"
done
for c in log info ingest; do
  run "$c" "$T/nodb" </dev/null
  expect_rc "$c on missing db" 1
  expect_err "$c on missing db" \
    "idgraph: no database at $T/nodb; create one with: idgraph init $T/nodb"
done
run export mappings "$T/nodb"
expect_rc "export on missing db" 1
expect_err "export on missing db" \
  "idgraph: no database at $T/nodb; create one with: idgraph init $T/nodb"
[ ! -e "$T/nodb" ] && ok "queries create no database" ||
  ko "a query created $T/nodb"

###########################################################################
# init

run init "$T/db1"
expect_rc "init" 0
expect_out "init" \
  "created $T/db1: mode original, merge delay 3600 s, cluster cap 500"
run info "$T/db1"
expect_rc "info on empty db" 0
expect_out "info on empty db" "mode: original
merge delay: 3600 s
cluster cap: 500
stamp: none (no record has given a time yet)
records: 0
nodes: 0
log size: 0"

run init "$T/dbset" --merge-delay 60 --cluster-cap=3
expect_rc "init with settings" 0
expect_out "init with settings" \
  "created $T/dbset: mode original, merge delay 60 s, cluster cap 3"
run init "$T/dbset" --merge-delay 1.5
expect_rc "init updates settings" 0
expect_out "init updates settings" \
  "updated $T/dbset: mode original, merge delay 1.500 s, cluster cap 3"
run info "$T/dbset" --json
expect_rc "info --json" 0
expect_json "info --json"
expect_json_has "info --json" \
  '{"mode":"original","merge_delay_ms":1500,"cluster_cap":3,"stamp":null,"records":0,"nodes":0,"log_size":0}'

# Other modes: refused with a clear message until they are implemented.
run init "$T/dbsimple" --mode simplified
if [ "$rc" -eq 1 ]; then
  expect_err_one "init --mode simplified" "idgraph: mode simplified is not supported yet"
  [ ! -e "$T/dbsimple" ] && ok "failed init leaves no directory" ||
    ko "failed init left $T/dbsimple"
else
  expect_rc "init --mode simplified" 0
fi

###########################################################################
# Row 1 of SPEC §2.4, with time travel: events as D1; $identify(U1, D1);
# events as D2; $identify(U1, D2) → one cluster {D1, D2, U1}, canonical U1.

{
  ev "Page View" "$D1" $t0
  identify U1 "$D1" $((t0 + 600))
  ev "Page View" "$D2" $((t0 + 700))
  identify U1 "$D2" $((t0 + 800))
} >"$T/row1.jsonl"

run ingest "$T/db1" "$T/row1.jsonl" --json --quiet
expect_rc "ingest row 1" 0
expect_json "ingest row 1 --json"
expect_json_has "ingest row 1 summary" \
  '{"records":4,"rejected":0,"events":4,"identity_events":2,"nodes_created":3,
    "outcomes":{"merged":2,"noop":0,"errSameIDs":0,
      "errAnonDistinctIdNonGUIDForm":0,"errAnonDistinctIdAssignedAlready":0,
      "errManyIDs":0,"errAliasAlreadyExists":0,"errAliasCycle":0,
      "errMergeRequiresImport":0}}'
expect_eq "summary files" "$(jq_py 'd["files"]')" \
  "[{'name': '$T/row1.jsonl', 'format': 'jsonl', 'records': 4, 'rejected': 0, 'skipped': False, 'resumed_at': None}]"
expect_json_has "summary: no skips, no warnings" \
  '{"skipped_files":[],"duplicates":0,"warnings":0,
    "warning_counts":{"long_strings":0,"many_properties":0,
      "type_clashes":0,"profiles_over_2000_properties":0,
      "profiles_for_anonymous_ids":0}}'
expect_eq "summary timing fields" \
  "$(jq_py 'type(d["seconds"]) in (int, float) and type(d["records_per_second"]) in (int, float)')" \
  "True"
expect_eq "summary stages: every field, two stages busy" \
  "$(jq_py 'sorted(d["stages"]) == ["apply_busy", "apply_wait", "commit_seconds", "parse_busy", "parse_wait"] and all(v >= 0 for v in d["stages"].values()) and d["stages"]["parse_busy"] > 0 and d["stages"]["apply_busy"] > 0')" \
  "True"
[ ! -s "$T/err" ] && ok "ingest: nothing on stderr when not a terminal" ||
  ko "ingest wrote to stderr" "$(cat "$T/err")"

run resolve "$T/db1" "$D1"
expect_rc "resolve D1" 0
expect_out "resolve D1" "canonical: U1
cluster size: 3
members: $D1, U1, $D2"
run resolve "$T/db1" U1 --json
expect_rc "resolve U1 --json" 0
expect_json "resolve U1 --json"
expect_json_has "resolve U1 --json" \
  "{\"distinct_id\":\"U1\",\"canonical\":\"U1\",\"cluster_size\":3,
    \"members\":[\"$D1\",\"U1\",\"$D2\"],\"at\":null,\"at_ms\":null,
    \"view\":\"live\"}"
run --json resolve "$T/db1" U1
expect_rc "options go after the command" 2
run resolve --json "$T/db1" U1
expect_rc "option before positional args" 0
expect_json "option before positional args"

run cluster "$T/db1" "$D2"
expect_rc "cluster D2" 0
expect_out "cluster D2" "$D1
U1
$D2"
run cluster "$T/db1" "$D2" --json
expect_json "cluster --json"
expect_json_has "cluster --json" \
  "{\"canonical\":\"U1\",\"members\":[\"$D1\",\"U1\",\"$D2\"]}"
cp "$T/out" "$T/cluster.json"
run resolve "$T/db1" "$D2" --json
expect_eq "cluster --json = resolve --json" "$(cat "$T/out")" \
  "$(cat "$T/cluster.json")"

run resolve "$T/db1" nobody
expect_rc "resolve unknown id" 1
expect_err "resolve unknown id" "idgraph: distinct_id \"nobody\" not found in $T/db1"
run resolve "$T/db1" ""
expect_err "resolve the empty id: shown in quotes" \
  "idgraph: distinct_id \"\" not found in $T/db1"
long=$(printf '%0200d' 0)
run resolve "$T/db1" "$long"
expect_err "resolve a long id: its first 80 bytes" \
  "idgraph: distinct_id \"$(printf '%080d' 0)\"... not found in $T/db1"
run resolve "$T/db1" "$(printf 'a\tb')"
expect_err "resolve an id with a tab: shown escaped" \
  'idgraph: distinct_id "a\x09b" not found in '"$T/db1"
# "x" and 41 two-byte characters: byte 80 is inside the 40th, which goes.
e39=""
for i in $(seq 39); do e39="$e39$(printf '\303\251')"; done
run resolve "$T/db1" "x$e39$(printf '\303\251\303\251')"
expect_err "resolve a long id: not cut inside a character" \
  "idgraph: distinct_id \"x$e39\"... not found in $T/db1"

# --at in seconds, milliseconds and ISO 8601: before the first merge D1 is
# alone; between the merges {D1, U1}; after both, the three of them.
run resolve "$T/db1" "$D1" --at $((t0 + 300))
expect_out "resolve --at seconds, before merge" "canonical: $D1
cluster size: 1
members: $D1"
run resolve "$T/db1" "$D1" --at $(((t0 + 650) * 1000))
expect_out "resolve --at ms, between merges" "canonical: U1
cluster size: 2
members: $D1, U1"
run resolve "$T/db1" "$D1" --at 2024-05-01T12:05:00Z
expect_out "resolve --at ISO, before merge" "canonical: $D1
cluster size: 1
members: $D1"
run resolve "$T/db1" "$D1" --at "2024-05-01 12:15:00"
expect_out "resolve --at ISO with space, after merges" "canonical: U1
cluster size: 3
members: $D1, U1, $D2"
run resolve "$T/db1" "$D1" --at 2024-05-01T12:10:00.000+00:00
expect_out "resolve --at the merge's own stamp" "canonical: U1
cluster size: 2
members: $D1, U1"
run resolve "$T/db1" "$D1" --at $((t0 + 599)).999
expect_out "resolve --at seconds with a fraction, 1 ms before" \
  "canonical: $D1
cluster size: 1
members: $D1"
run resolve "$T/db1" "$D1" --at $((t0 + 650)) --json
expect_json_has "resolve --at --json" \
  "{\"canonical\":\"U1\",\"cluster_size\":2,\"at\":\"2024-05-01T12:10:50.000Z\",
    \"at_ms\":$(((t0 + 650) * 1000)),\"view\":\"live\"}"
run resolve "$T/db1" "$D2" --at $((t0 + 650))
expect_rc "resolve id not yet seen at T" 1
expect_err "resolve id not yet seen at T" \
  "idgraph: distinct_id \"$D2\" not found in $T/db1 as of 2024-05-01T12:10:50.000Z"
run cluster "$T/db1" U1 --at $((t0 + 650))
expect_out "cluster --at between merges" "$D1
U1"

# Reported view: merges show only merge_delay (3600 s) after their stamp.
run resolve "$T/db1" "$D1" --view reported
expect_out "resolve --view reported right after the merges" \
  "canonical: $D1
cluster size: 1
members: $D1"
run resolve "$T/db1" "$D1" --view reported --at $((t0 + 600 + 3600))
expect_out "resolve --view reported after the delay" "canonical: U1
cluster size: 2
members: $D1, U1"

run info "$T/db1"
expect_out "info after ingest" "mode: original
merge delay: 3600 s
cluster cap: 500
stamp: $(((t0 + 800) * 1000)) (2024-05-01T12:13:20.000Z)
records: 4
nodes: 3
log size: 2"

# log, for people and as JSON lines.
run log "$T/db1"
expect_rc "log" 0
row() { printf '%-24s  %-9s  %-40s  %-7s  %-6s  %s' "$@"; }
expect_out "log table" "$(row stamp event ids outcome reason canonical)
$(row 2024-05-01T12:10:00.000Z '$identify' "U1, $D1" merged - U1)
$(row 2024-05-01T12:13:20.000Z '$identify' "U1, $D2" merged - U1)"
run log "$T/db1" --json
expect_rc "log --json" 0
expect_json "log --json"
expect_eq "log --json first entry" \
  "$(jq_py 'json.dumps(d, sort_keys=True)')" \
  "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' \
    "{\"seq\":1,\"stamp\":$(((t0 + 600) * 1000)),\"time\":\"2024-05-01T12:10:00.000Z\",
      \"event\":\"\$identify\",\"ids\":[\"U1\",\"$D1\"],\"insert_id\":null,
      \"outcome\":\"merged\",\"reason\":null,\"description\":null,\"canonical\":\"U1\"}")"
expect_eq "log --json lines" "$(wc -l <"$T/out")" 2

# explain: the merges that built a cluster, the chain between two ids.
xrow() { printf '%-24s  %-9s  %-40s  %s' "$@"; }
run explain "$T/db1" "$D1"
expect_rc "explain one id" 0
expect_out "explain one id" "$D1 is in the cluster of U1 (3 ids), built by 2 merges:
$(xrow stamp event ids insert_id)
$(xrow 2024-05-01T12:10:00.000Z '$identify' "U1, $D1" -)
$(xrow 2024-05-01T12:13:20.000Z '$identify' "U1, $D2" -)"
run explain "$T/db1" "$D2" "$D1"
expect_out "explain two ids: the chain in path order" \
  "$D2 and $D1 are connected by 2 merges, in the cluster of U1
path: $D2 -> U1 -> $D1
$(xrow stamp event ids insert_id)
$(xrow 2024-05-01T12:13:20.000Z '$identify' "U1, $D2" -)
$(xrow 2024-05-01T12:10:00.000Z '$identify' "U1, $D1" -)"
run explain "$T/db1" "$D1" "$D2" --at $((t0 + 700))
expect_rc "explain two ids not connected" 0
expect_out "explain two ids not connected as of T" \
  "$D1 and $D2 are not connected as of 2024-05-01T12:11:40.000Z: $D1 is in the cluster of U1, $D2 in the cluster of $D2"
run explain "$T/db1" "$D1" --view reported
expect_out "explain, reported view right after the merges" \
  "$D1 is in the cluster of $D1 (1 id) (reported view): no merge built it"
run explain "$T/db1" U1 U1
expect_out "explain an id with itself" "U1 and U1 are connected by 0 merges, in the cluster of U1
path: U1"
run explain "$T/db1" U1 "$D2" --json
expect_json "explain two ids --json"
expect_eq "explain two ids --json" \
  "$(jq_py 'json.dumps(d, sort_keys=True)')" \
  "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' \
    "{\"distinct_ids\":[\"U1\",\"$D2\"],\"connected\":true,
      \"canonicals\":[\"U1\",\"U1\"],\"path\":[\"U1\",\"$D2\"],\"at\":null,\"at_ms\":null,
      \"view\":\"live\",\"merges\":[{\"seq\":2,\"stamp\":$(((t0 + 800) * 1000)),
      \"time\":\"2024-05-01T12:13:20.000Z\",\"event\":\"\$identify\",
      \"ids\":[\"U1\",\"$D2\"],\"insert_id\":null,\"canonical\":\"U1\"}]}")"
run explain "$T/db1" "$D2" U1 --at $((t0 + 700)) --json
expect_eq "explain --json: not connected" \
  "$(jq_py '(d["connected"], d["canonicals"], d["path"], d["merges"], d["at"], d["at_ms"])')" \
  "(False, ['$D2', 'U1'], None, [], '2024-05-01T12:11:40.000Z', $(((t0 + 700) * 1000)))"
run explain "$T/db1" nobody
expect_rc "explain an unknown id" 1
expect_err "explain an unknown id" "idgraph: distinct_id \"nobody\" not found in $T/db1"
expect_usage "explain without an id" explain "$T/db1"
expect_usage "explain three ids" explain "$T/db1" a b c

# export mappings: CSV (default) and JSON lines, now and as of T.
run export mappings "$T/db1"
expect_rc "export mappings" 0
expect_out "export mappings csv" "distinct_id,resolved_distinct_id
$D1,U1
U1,U1
$D2,U1"
run export mappings "$T/db1" --format jsonl
expect_rc "export mappings jsonl" 0
expect_json "export mappings jsonl"
expect_eq "export mappings jsonl rows" \
  "$(jq_py '[(r["distinct_id"], r["resolved_distinct_id"]) for r in L]')" \
  "[('$D1', 'U1'), ('U1', 'U1'), ('$D2', 'U1')]"
run export mappings "$T/db1" --at $((t0 + 300))
expect_out "export mappings before any merge" "distinct_id,resolved_distinct_id"
run export mappings --at=2024-05-01T12:11:00Z "$T/db1"
expect_out "export mappings between merges" "distinct_id,resolved_distinct_id
$D1,U1
U1,U1"
run export mappings "$T/db1" --view reported
expect_out "export mappings, reported view" "distinct_id,resolved_distinct_id"

# The same file again, from stdin: the graph does not change.
run_in "$T/row1.jsonl" ingest "$T/db1" --json
expect_rc "ingest from stdin" 0
expect_json_has "re-ingest outcomes" '{"records":4,"nodes_created":0}'
expect_eq "stdin is named - in files" "$(jq_py '[f["name"] for f in d["files"]]')" "['-']"
expect_json_has "stdin is not remembered: ingested again" \
  '{"skipped_files":[],"events":4}'
run cluster "$T/db1" U1
expect_out "cluster unchanged after re-ingest" "$D1
U1
$D2"

###########################################################################
# Original-mode rows of SPEC §2.4 and each refusal, in one file.

{
  identify U1 "$D3" $t0                        # merged
  identify U2 "$D3" $((t0 + 1))                # errAnonDistinctIdAssignedAlready
  identify x x $((t0 + 2))                     # errSameIDs
  identify u@x.com abc $((t0 + 3))             # errAnonDistinctIdNonGUIDForm
  alias_ev abc u@x.com $((t0 + 4))             # merged
  alias_ev X A $((t0 + 5))                     # merged
  alias_ev X B $((t0 + 6))                     # errAliasAlreadyExists
  ev e M1 $((t0 + 7))
  ev e M2 $((t0 + 8))
  ev e M3 $((t0 + 9))
  ev e M4 $((t0 + 10))
  merge_ev M2 M3 $((t0 + 11))                  # merged
  merge_ev M3 M4 $((t0 + 12))                  # merged
  merge_ev M1 M3 $((t0 + 13))                  # merged
  identify U1 "$D3" $((t0 + 14))               # noop
  identify U3 "$D1" $((t0 + 15))               # merged
  identify U4 "$D2" $((t0 + 16))               # merged: 2 users after reset
} >"$T/rows.jsonl"
run init "$T/db2"
run ingest "$T/db2" "$T/rows.jsonl" --json
expect_rc "ingest §2.4 rows" 0
expect_json "ingest §2.4 rows --json"
expect_json_has "§2.4 rows: outcome counts" \
  '{"records":17,"rejected":0,"events":17,"identity_events":13,
    "outcomes":{"merged":8,"noop":1,"errSameIDs":1,
      "errAnonDistinctIdNonGUIDForm":1,"errAnonDistinctIdAssignedAlready":1,
      "errManyIDs":0,"errAliasAlreadyExists":1,"errAliasCycle":0,
      "errMergeRequiresImport":0}}'

run cluster "$T/db2" "$D3"
expect_eq "identify merge: {D3, U1}" "$(sort "$T/out" | tr '\n' ' ')" \
  "U1 $D3 "
run resolve "$T/db2" "$D3"
expect_eq "identify merge: canonical U1" "$(head -n 1 "$T/out")" "canonical: U1"
run resolve "$T/db2" U2
expect_out "errAnonDistinctIdAssignedAlready: U2 stays alone" "canonical: U2
cluster size: 1
members: U2"
run resolve "$T/db2" x
expect_out "errSameIDs: x alone" "canonical: x
cluster size: 1
members: x"
run resolve "$T/db2" abc
expect_rc "alias after non-GUID identify" 0
expect_eq "alias after non-GUID identify: canonical" \
  "$(head -n 2 "$T/out")" "canonical: u@x.com
cluster size: 2"
run resolve "$T/db2" B
expect_out "errAliasAlreadyExists: B alone" "canonical: B
cluster size: 1
members: B"
run cluster "$T/db2" M4
expect_eq "three \$merge: one cluster of 4" "$(sort "$T/out" | tr '\n' ' ')" \
  "M1 M2 M3 M4 "
run resolve "$T/db2" "$D1"
expect_eq "reset: {D1, U3}" "$(head -n 2 "$T/out")" "canonical: U3
cluster size: 2"
run resolve "$T/db2" "$D2"
expect_eq "reset: {D2, U4}" "$(head -n 2 "$T/out")" "canonical: U4
cluster size: 2"

run log "$T/db2" --json
expect_rc "log --json of the rows" 0
expect_json "log --json of the rows"
expect_eq "log outcomes and reasons" \
  "$(jq_py '[(e["seq"], e["outcome"], e["reason"]) for e in L][:7]')" \
  "[(1, 'merged', None), (2, 'refused', 'errAnonDistinctIdAssignedAlready'), (3, 'refused', 'errSameIDs'), (4, 'refused', 'errAnonDistinctIdNonGUIDForm'), (5, 'merged', None), (6, 'merged', None), (7, 'refused', 'errAliasAlreadyExists')]"
expect_eq "log: non-GUID description" "$(jq_py 'L[3]["description"]')" \
  "\$anon_distinct_id didn't match expected GUID pattern: abc"
expect_eq "log: ids of \$create_alias (target, alias)" \
  "$(jq_py 'L[4]["ids"]')" "['u@x.com', 'abc']"
expect_eq "log: ids of \$merge" "$(jq_py 'L[7]["ids"]')" "['M2', 'M3']"
expect_eq "log: entries" "$(jq_py 'len(L)')" 13
run log "$T/db2"
expect_eq "log table: header + 13 rows" "$(wc -l <"$T/out")" 14
expect_eq "log table: refused row" \
  "$(sed -n 3p "$T/out" | awk '{print $2, $3, $4, $5, $6}')" \
  "\$identify U2, $D3 refused errAnonDistinctIdAssignedAlready"

# The cap, through --cluster-cap: a cluster of exactly 3 is allowed.
{
  merge_ev A B $t0
  merge_ev A C $((t0 + 1))
  merge_ev A D $((t0 + 2))
} >"$T/cap.jsonl"
run init "$T/dbcap" --cluster-cap 3
run ingest "$T/dbcap" "$T/cap.jsonl" --json
expect_json_has "cluster cap 3" \
  '{"outcomes":{"merged":2,"noop":0,"errSameIDs":0,
    "errAnonDistinctIdNonGUIDForm":0,"errAnonDistinctIdAssignedAlready":0,
    "errManyIDs":1,"errAliasAlreadyExists":0,"errAliasCycle":0,
    "errMergeRequiresImport":0}}'
run resolve "$T/dbcap" D
expect_out "errManyIDs: D stays alone" "canonical: D
cluster size: 1
members: D"

# People's summary: a few lines with the refusals by reason.
run init "$T/db3"
run ingest "$T/db3" "$T/rows.jsonl"
expect_rc "ingest, people's summary" 0
expect_eq "people's summary" "$(head -n 15 "$T/out")" "records: 17
rejected: 0
events: 17
duplicates: 0
identity events: 13
nodes created: 17
profile updates: 0 (0 profiles created, 0 deleted)
merged: 8
noop: 1
refused: 4
  errSameIDs: 1
  errAnonDistinctIdNonGUIDForm: 1
  errAnonDistinctIdAssignedAlready: 1
  errAliasAlreadyExists: 1
warnings: 0"
expect_eq "people's summary: last line" "$(sed -n '16s/, [0-9.]* s, .*//p' "$T/out")" \
  "files: 1"

###########################################################################
# CSV quoting (RFC 4180) of ids holding a comma, a quote or a newline.

{
  ev e 'a,b' $t0
  ev e 'say \"hi\"' $((t0 + 1))
  ev e 'two\nlines' $((t0 + 2))
  merge_ev 'a,b' 'say \"hi\"' $((t0 + 3))
  merge_ev 'a,b' 'two\nlines' $((t0 + 4))
} >"$T/csv.jsonl"
run init "$T/dbcsv"
run ingest "$T/dbcsv" "$T/csv.jsonl"
run export mappings "$T/dbcsv" --format csv
expect_out "csv quoting" 'distinct_id,resolved_distinct_id
"a,b","a,b"
"say ""hi""","a,b"
"two
lines","a,b"'
run export mappings "$T/dbcsv" --format jsonl
expect_json "jsonl escaping"
expect_eq "jsonl escaping round-trips" \
  "$(jq_py '[r["distinct_id"] for r in L] == ["a,b", "say \"hi\"", "two\nlines"]')" \
  True

###########################################################################
# Rejected records: reported on stderr, written byte for byte to --rejects,
# and the good lines around them kept.

{
  ev e G1 $t0
  printf '%s\n' 'this is not json'
  ev e G2 $((t0 + 1))
  ev e anonymous $((t0 + 2))
  printf '%s\n' '{"event":"e","properties":{"distinct_id":"G9"}}'
  printf '%s\n' '"just a string"'
  printf '%s\n' '{"event":"","properties":{"distinct_id":"G8","time":1714564800}}'
  ev e G3 $((t0 + 3))
  printf '%s\n' '{"event":"$identify","properties":{"distinct_id":"G4","$anon_distinct_id":"null","time":1714564800}}'
} >"$T/mixed.jsonl"
sed -n '2p;4p;5p;6p;7p;9p' "$T/mixed.jsonl" >"$T/mixed.bad"
run init "$T/dbrej"
run ingest "$T/dbrej" "$T/mixed.jsonl" --rejects "$T/rejects.out" --json
expect_rc "ingest with rejects exits 0" 0
expect_json "ingest with rejects --json"
expect_json_has "ingest with rejects counts" \
  '{"records":9,"rejected":6,"events":3}'
if cmp -s "$T/mixed.bad" "$T/rejects.out"; then
  ok "rejects file holds the bad lines byte for byte"
else
  ko "rejects file differs" "$(diff "$T/mixed.bad" "$T/rejects.out")"
fi
expect_eq "one stderr line per reject" "$(wc -l <"$T/err")" 6
expect_eq "reject lines name file and line" \
  "$(cut -d: -f1-3 "$T/err" | tr '\n' ' ')" \
  "idgraph: $T/mixed.jsonl:2 idgraph: $T/mixed.jsonl:4 idgraph: $T/mixed.jsonl:5 idgraph: $T/mixed.jsonl:6 idgraph: $T/mixed.jsonl:7 idgraph: $T/mixed.jsonl:9 "
for id in G1 G2 G3; do
  run resolve "$T/dbrej" $id
  expect_rc "good line $id kept" 0
done
for id in G9 G8 anonymous; do
  run resolve "$T/dbrej" $id
  expect_rc "rejected line's id $id not stored" 1
done

# A JSON array line: the bad element is reported with its index.
printf '[%s,5]\n' "$(ev e A1 $t0)" >"$T/array.jsonl"
run ingest "$T/dbrej" "$T/array.jsonl" --rejects "$T/rej2.out" --json
expect_rc "array line" 0
expect_json_has "array line counts" '{"records":2,"rejected":1}'
expect_eq "array reject names line and index" "$(cut -d: -f1-4 "$T/err")" \
  "idgraph: $T/array.jsonl:1:1"
expect_eq "array reject raw bytes" "$(cat "$T/rej2.out")" 5

# A rejects file that cannot be written stops the ingest with the batch in
# progress rolled back; --resume with another file then gets every reject
# (those of committed batches were written before their commit).
if [ -w /dev/full ]; then
  { echo bad1; ev e RF1 $t0; echo bad3; ev e RF2 $t0; } >"$T/rf.jsonl"
  run init "$T/dbrf"
  run ingest "$T/dbrf" "$T/rf.jsonl" --rejects /dev/full --batch-size 1
  expect_rc "rejects file full" 1
  expect_eq "rejects file full: what to do" "$(tail -n 1 "$T/err")" \
    "idgraph: cannot write the rejects file /dev/full: No space left on \
device; the batches committed before were kept, with their rejects in it, \
and the batch in progress was rolled back: go on with --resume and \
another --rejects file"
  run ingest "$T/dbrf" "$T/rf.jsonl" --resume --rejects "$T/rf.rej"
  expect_rc "rejects file full, then --resume" 0
  expect_eq "rejects file full, then --resume: no reject lost" \
    "$(cat "$T/rf.rej")" "bad1
bad3"
fi

# --rejects naming an input would empty it before it is read: refused,
# the input untouched, by any path to it and through stdin.
cp "$T/array.jsonl" "$T/self.jsonl"
expect_usage "rejects file is the input" \
  ingest "$T/dbrej" "$T/self.jsonl" --rejects "$T/self.jsonl"
expect_err "rejects file is the input" "idgraph: --rejects $T/self.jsonl is \
an input ($T/self.jsonl): it would be emptied before it is read; write the \
rejects to another file"
expect_usage "rejects file is the input, by another path" \
  ingest "$T/dbrej" "$T/../$(basename "$T")/self.jsonl" --rejects "$T/self.jsonl"
for f in data.mdb lock.mdb; do
  cp "$T/dbrej/$f" "$T/$f.before"
  expect_usage "rejects file is the database's $f" \
    ingest "$T/dbrej" "$T/self.jsonl" --rejects "$T/dbrej/$f"
  expect_err "rejects file is the database's $f" "idgraph: --rejects \
$T/dbrej/$f is the database's own $f: writing to it would destroy the \
database; write the rejects to another file"
done
expect_eq "rejects file is the database's: the database kept" \
  "$(cmp "$T/data.mdb.before" "$T/dbrej/data.mdb" && echo same)" same
run_in "$T/self.jsonl" ingest "$T/dbrej" - --rejects "$T/self.jsonl"
expect_rc "rejects file is stdin" 2
expect_eq "rejects file is the input: input kept" \
  "$(cmp "$T/array.jsonl" "$T/self.jsonl" && echo same)" same

# More than 20 rejects: 20 lines, then one "... N more" line; all counted.
for i in $(seq 1 25); do printf 'bad %d\n' "$i"; done >"$T/many.jsonl"
run ingest "$T/dbrej" "$T/many.jsonl" --json
expect_rc "many rejects, none valid" 1
expect_json_has "many rejects all counted" '{"records":25,"rejected":25}'
expect_eq "many rejects: 23 stderr lines" "$(wc -l <"$T/err")" 23
expect_eq "many rejects: the count of the rest" "$(sed -n 21p "$T/err")" \
  "idgraph: $T/many.jsonl: ... 5 more rejected"
expect_eq "many rejects: what to do" "$(sed -n 22p "$T/err")" \
  "idgraph: $T/many.jsonl: every record was rejected; idgraph reads JSON \
lines, one record a line: a JSON array converts with jq -c '.[]', \
pretty-printed objects with jq -c ., piped to: idgraph ingest DIR -"
expect_eq "many rejects: nothing valid is a failure" "$(tail -n 1 "$T/err")" \
  "idgraph: no record of the input was valid: nothing was ingested"
# One valid record among them: exit 0, no advice.
{ cat "$T/many.jsonl"; ev e OK1 $t0; } >"$T/many1.jsonl"
run ingest "$T/dbrej" "$T/many1.jsonl" --json
expect_rc "many rejects and one valid record" 0
expect_eq "many rejects and one valid record: no advice" \
  "$(grep -c 'every record' "$T/err")" 0

# Compressed input: refused before anything is read, with the way to read it.
gzip -c "$T/array.jsonl" >"$T/array.jsonl.gz"
run ingest "$T/dbrej" "$T/array.jsonl.gz"
expect_rc "gzip input" 1
expect_err "gzip input" "idgraph: $T/array.jsonl.gz is gzip-compressed; \
idgraph reads JSON lines or MessagePack: zcat $T/array.jsonl.gz | idgraph \
ingest DIR -; nothing was ingested"
run_in "$T/array.jsonl.gz" ingest "$T/dbrej" -
expect_rc "gzip on stdin" 1
expect_err_one "gzip on stdin" "idgraph: <stdin> is gzip-compressed"
printf 'BZh9' >"$T/bz.jsonl"
run ingest "$T/dbrej" "$T/bz.jsonl"
expect_err_one "bzip2 input" "idgraph: $T/bz.jsonl is bzip2-compressed"
run_in "$T/bz.jsonl" ingest "$T/dbrej" -
expect_err_one "bzip2 on stdin from a file (magic read in place)" \
  "idgraph: <stdin> is bzip2-compressed"
printf 'Bad\n' >"$T/b.jsonl"
run ingest "$T/dbrej" "$T/b.jsonl"
expect_eq "a line that begins like bzip2's magic is a rejected record" \
  "$(head -n 1 "$T/err")" "idgraph: $T/b.jsonl:1: malformed JSON"

# Several files in order, and a missing file fails before ingesting any.
ev e F1 $t0 >"$T/f1.jsonl"
ev e F2 $t0 >"$T/f2.jsonl"
run ingest "$T/dbrej" "$T/f1.jsonl" "$T/nofile.jsonl"
expect_rc "missing input file" 1
expect_err_one "missing input file" "idgraph: cannot read $T/nofile.jsonl"
run resolve "$T/dbrej" F1
expect_rc "nothing ingested when a file is missing" 1
mkdir -p "$T/adir"
run ingest "$T/dbrej" "$T/f1.jsonl" "$T/adir"
expect_rc "a directory as input" 1
expect_err_one "a directory as input" \
  "idgraph: $T/adir is a directory; give the files in it; nothing was ingested"
run resolve "$T/dbrej" F1
expect_rc "nothing ingested when an input is a directory" 1
run_in "$T/adir" ingest "$T/dbrej" -
expect_rc "a directory on stdin" 1
expect_err_one "a directory on stdin" \
  "idgraph: <stdin> is a directory; give the files in it; nothing was ingested"
run_in "$T/f1.jsonl" ingest "$T/dbrej" "$T/f1.jsonl" - "$T/f2.jsonl" --json \
  --batch-size 1 --nosync --clock event
expect_rc "several files" 0
expect_json_has "several files" '{"records":3}'
expect_eq "several files: names" "$(jq_py '[f["name"] for f in d["files"]]')" \
  "['$T/f1.jsonl', '-', '$T/f2.jsonl']"
run resolve "$T/dbrej" F2
expect_rc "last file ingested" 0

# The mode of a database that holds records cannot change; other settings
# can, and the ones not given keep their values.
run init "$T/db1" --mode legacy
expect_rc "init: mode change refused" 1
expect_err_one "init: mode change refused" \
  "idgraph: cannot change the mode of $T/db1: "
run init "$T/db1" --merge-delay 120
expect_rc "init: delay change on a database with records" 0
expect_out "init: delay change keeps the rest" \
  "updated $T/db1: mode original, merge delay 120 s, cluster cap 500"
run resolve "$T/db1" "$D1" --view reported --at $((t0 + 600 + 120))
expect_eq "reported view follows the new delay" "$(head -n 1 "$T/out")" \
  "canonical: U1"

run cluster "$T/db1" nobody --at 2024-05-01
expect_rc "cluster unknown id" 1
expect_err "cluster unknown id" \
  "idgraph: distinct_id \"nobody\" not found in $T/db1 as of 2024-05-01T00:00:00.000Z"
run ingest "$T/db1" "$T/f1.jsonl" --rejects "$T/no/such/dir/rejects"
expect_rc "unwritable rejects file" 1
expect_err_one "unwritable rejects file" \
  "idgraph: cannot create the rejects file $T/no/such/dir/rejects"

# A failed init in an empty directory leaves it empty (only while a mode
# is refused as unsupported).
mkdir "$T/emptydir"
run init "$T/emptydir" --mode legacy
if [ "$rc" -eq 1 ]; then
  expect_eq "failed init leaves an empty directory empty" \
    "$(ls -A "$T/emptydir")" ""
fi

# A directory of other files is not made a database, nor taken for one.
mkdir "$T/otherdir"
echo keep >"$T/otherdir/notes.txt"
run init "$T/otherdir"
expect_rc "init in a directory of other files" 1
expect_err "init in a directory of other files" "idgraph: $T/otherdir holds \
other files and no database; give idgraph init a new or empty directory"
expect_eq "init in a directory of other files: left as it was" \
  "$(ls -A "$T/otherdir")" notes.txt
run resolve "$T/otherdir" U1
expect_rc "resolve in a directory of other files" 1
expect_err "resolve in a directory of other files" "idgraph: no database at \
$T/otherdir: the directory holds other files; check the path"

# Arguments out of order: a database where a file or an id should be.
expect_usage "ingest FILE DIR" ingest "$T/f1.jsonl" "$T/db1"
expect_err "ingest FILE DIR" "idgraph: $T/db1 is a database and $T/f1.jsonl \
is not: the arguments are out of order; idgraph ingest DIR [FILE ...|-]"
expect_usage "resolve ID DIR" resolve U1 "$T/db1"
expect_usage "export DIR events" export "$T/db1" events
expect_err "export DIR events" "idgraph: $T/db1 is a database and events is \
not: the arguments are out of order; idgraph export \
mappings|events|profiles DIR"
run resolve "$T/db1" "$T/db1"
expect_rc "resolve DIR DIR: an id that names a database is still an id" 1

# Progress: only on a terminal (util-linux script(1) gives one), updated in
# place with CR and cleared at the end; nothing with --quiet.
if script -qc true /dev/null >/dev/null 2>&1; then
  for i in $(seq 1 3000); do ev e "P$((i % 50))" $((t0 + i)); done \
    >"$T/progress.jsonl"
  run init "$T/dbprog"
  script -qc "'$BIN' ingest '$T/dbprog' '$T/progress.jsonl' --batch-size 100 --json >/dev/null" \
    "$T/tty" >/dev/null 2>&1 </dev/null
  if grep -q "idgraph: .*progress.jsonl: [0-9]* records, [0-9]* records/s, [0-9]*%" "$T/tty" &&
    [ "$(tr -cd '\r' <"$T/tty" | wc -c)" -ge 2 ]; then
    ok "progress shown on a terminal"
  else
    ko "progress shown on a terminal" "$(cat -A "$T/tty" | head -c 2000)"
  fi
  script -qc "'$BIN' ingest '$T/dbprog' '$T/progress.jsonl' --batch-size 100 --quiet --force --json >/dev/null" \
    "$T/tty" >/dev/null 2>&1 </dev/null
  if grep -q "records/s" "$T/tty"; then
    ko "no progress with --quiet" "$(cat -A "$T/tty" | head -c 2000)"
  else
    ok "no progress with --quiet"
  fi
fi

###########################################################################
# The event store: export events, file memory, MessagePack, resume.

# Help names every new option and the choices made.
run ingest --help
for w in '--format auto|jsonl|msgpack' '--force' '--resume' \
  'raw bytes as they are' 'The last copy ingested wins' \
  'an identity event is not applied again' 'a hash of its content' \
  'value N[:INDEX]' 'warnings'; do
  grep -qF -- "$w" "$T/out" && ok "ingest help: $w" ||
    ko "ingest help lacks: $w"
done
run export --help
for w in 'usage: idgraph export mappings DIR' '       idgraph export events DIR' \
  '--from T1' '--to T2' '--event NAME' 'jsonl (default) or msgpack' \
  '$distinct_id_before_identity'; do
  grep -qF -- "$w" "$T/out" && ok "export help: $w" ||
    ko "export help lacks: $w"
done
run --help
grep -q '^  export events DIR' "$T/out" && ok "overview lists export events" ||
  ko "overview lists export events"

# Usage errors of the new options: status 2, one line, nothing done.
run init "$T/dbev"
expect_usage "ingest bad --format" ingest "$T/dbev" --format xml
expect_usage "ingest --force with --resume" ingest "$T/dbev" --force --resume
expect_usage "export events bad --from" export events "$T/dbev" --from soon
expect_usage "export events bad --to" export events "$T/dbev" --to 2024-13-01
expect_usage "export events --from = --to" export events "$T/dbev" \
  --from $t0 --to $t0
expect_err "export events --from after --to" \
  "idgraph: --from $t0 is not before --to $t0: the range is [from, to), give a --from earlier than --to"
expect_usage "export events --from after --to" export events "$T/dbev" \
  --from 2024-05-02 --to 2024-05-01
expect_usage "export events bad --format" export events "$T/dbev" --format csv
expect_err "export events bad --format" \
  "idgraph: bad --format value 'csv': use jsonl or msgpack"
expect_usage "export mappings --event" export mappings "$T/dbev" --event e
expect_usage "export unknown kind" export people "$T/dbev"
run export events "$T/nodb"
expect_rc "export events on missing db" 1
expect_err "export events on missing db" \
  "idgraph: no database at $T/nodb; create one with: idgraph init $T/nodb"

# Round trip: every value and type comes back exact, byte for byte in the
# writer's canonical form (\/ as /, 1e300 as 1e+300, \u escapes of
# printable text as UTF-8, integers in full beyond 2^53 and 2^64).
cat >"$T/rt.jsonl" <<'EOF'
{"event":"Ünïcode ✓ \"q\"","properties":{"distinct_id":"rt-1","time":1714564800123,"$insert_id":"rt-1","esc":"q\" b\\ s\/ \b\f\n\r\t \u0001 \u001f \u007f","uni":"é € 😀 \u00e9 \ud83d\ude00","big":18446744073709551615,"neg":-9223372036854775808,"b53":9007199254740993,"huge":123456789012345678901234567890,"f":0.1,"f2":1e300,"f3":-2.5e-7,"zero":-0.0,"i":0,"t":true,"fa":false,"n":null,"nested":{"a":[1,[2,[3,{"k":"v"}]],"x",null,true,{}],"o":{"":""}},"empty":[]}}
EOF
cat >"$T/rt.want" <<'EOF'
{"event":"Ünïcode ✓ \"q\"","properties":{"distinct_id":"rt-1","time":1714564800123,"$insert_id":"rt-1","esc":"q\" b\\ s/ \b\f\n\r\t \u0001 \u001f \u007f","uni":"é € 😀 é 😀","big":18446744073709551615,"neg":-9223372036854775808,"b53":9007199254740993,"huge":123456789012345678901234567890,"f":0.1,"f2":1e+300,"f3":-2.5e-07,"zero":-0.0,"i":0,"t":true,"fa":false,"n":null,"nested":{"a":[1,[2,[3,{"k":"v"}]],"x",null,true,{}],"o":{"":""}},"empty":[]}}
EOF
run ingest "$T/dbev" "$T/rt.jsonl" --json
expect_rc "ingest round-trip line" 0
expect_json_has "ingest round-trip line" '{"records":1,"events":1,"rejected":0}'
run export events "$T/dbev"
expect_rc "export events" 0
if cmp -s "$T/rt.want" "$T/out"; then ok "export events: round trip byte for byte"; else
  ko "export events: round trip differs" "$(diff "$T/rt.want" "$T/out")"
fi
expect_eq "export events: same values as the input (Python's reading)" \
  "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read()) == json.loads(open(sys.argv[2]).read()))' "$T/rt.jsonl" "$T/out")" \
  True

# Invalid UTF-8 in JSON input: the record is rejected, never mangled.
printf '{"event":"e","properties":{"distinct_id":"iv","time":%s,"s":"a\377b"}}\n' \
  $t0 >"$T/iv.jsonl"
run ingest "$T/dbev" "$T/iv.jsonl" --json
expect_json_has "invalid UTF-8 rejected" '{"records":1,"rejected":1}'
expect_rc "invalid UTF-8 rejected: nothing valid" 1
expect_eq "invalid UTF-8 rejected: message" "$(head -n 1 "$T/err")" \
  "idgraph: $T/iv.jsonl:1: invalid UTF-8"

# Soft limits: counted as warnings, data kept whole.
python3 -c '
import json
p = {"distinct_id": "w1", "time": 1714564800, "$insert_id": "w1"}
for i in range(256): p["p%d" % i] = i
print(json.dumps({"event": "wide", "properties": p}))
print(json.dumps({"event": "long", "properties": {"distinct_id": "w2",
  "time": 1714564801, "s": "x" * 256, "l": ["y" * 300, {"z": "z" * 256}]}}))
' >"$T/warn.jsonl"
run ingest "$T/dbev" "$T/warn.jsonl"
expect_rc "soft limits" 0
expect_eq "soft limits: people's summary" "$(sed -n '1,4p;10,13p' "$T/out")" \
  "records: 2
rejected: 0
events: 2
duplicates: 0
refused: 0
warnings: 4
  strings over 255 bytes: 3
  events with more than 255 properties: 1"
run export events "$T/dbev" --event long
expect_eq "soft limits: long strings kept whole" \
  "$(jq_py 'len(d["properties"]["s"]), len(d["properties"]["l"][0])')" "(256, 300)"
run export events "$T/dbev" --event wide
expect_eq "soft limits: 256 properties kept" "$(jq_py 'len(d["properties"])')" 259

# MessagePack: export the events of a database without merges (so every
# distinct_id is as sent), ingest that into a fresh database, and both
# export the same, in either format.
{
  ev "Page View" MP1 $((t0 + 10))
  ev "Page View" MP2 $((t0 + 11))
  ev "Page View" 12345 $((t0 + 12))
} >"$T/nomerge.jsonl"
run ingest "$T/dbev" "$T/nomerge.jsonl" --json
expect_json_has "no merges in the source database" \
  '{"identity_events":0,"events":3}'
"$BIN" export events "$T/dbev" --format msgpack >"$T/ev.mp" 2>"$T/err"
rc=$?
expect_rc "export events --format msgpack" 0
expect_eq "MessagePack export starts with a map" \
  "$(head -c 1 "$T/ev.mp" | od -An -tx1 | tr -d ' ')" 82
run init "$T/dbmp"
run ingest "$T/dbmp" "$T/ev.mp" --json
expect_rc "ingest MessagePack (auto)" 0
expect_json_has "ingest MessagePack (auto)" '{"records":6,"rejected":0,"events":6,"warnings":4}'
expect_eq "MessagePack detected" "$(jq_py 'd["files"][0]["format"]')" msgpack
for f in jsonl msgpack; do
  "$BIN" export events "$T/dbev" --format $f >"$T/ex1" 2>&1
  "$BIN" export events "$T/dbmp" --format $f >"$T/ex2" 2>&1
  if [ -s "$T/ex1" ] && cmp -s "$T/ex1" "$T/ex2"; then
    ok "MessagePack in = JSON in: export events --format $f equal"
  else
    ko "MessagePack in = JSON in: export events --format $f differ" \
      "$(cmp "$T/ex1" "$T/ex2")"
  fi
done
run init "$T/dbmp2"
run_in "$T/ev.mp" ingest "$T/dbmp2" - --format msgpack --json
expect_rc "ingest MessagePack from stdin, --format msgpack" 0
expect_json_has "ingest MessagePack from stdin" '{"records":6,"rejected":0}'
run_in "$T/ev.mp" ingest "$T/dbmp2" --format jsonl --json
expect_rc "MessagePack read as --format jsonl: nothing valid" 1
expect_eq "MessagePack read as --format jsonl: all rejected" \
  "$(jq_py 'd["records"] > 0 and d["rejected"] == d["records"] and d["events"] == 0')" True

# MessagePack rejects: "value N[:INDEX]" in messages; --rejects gets the
# raw bytes of each rejected value, a MessagePack stream of them.
cat >"$T/mp.py" <<'EOF'
# JSON lines on stdin -> one MessagePack value per line on stdout.
import json, struct, sys
def enc(o):
    if o is None: return b'\xc0'
    if o is True: return b'\xc3'
    if o is False: return b'\xc2'
    if isinstance(o, int):
        if 0 <= o < 128: return bytes([o])
        if 0 <= o < 2**32: return b'\xce' + struct.pack('>I', o)
        if -2**31 <= o < 0: return b'\xd2' + struct.pack('>i', o)
        return b'\xcf' + struct.pack('>Q', o)
    if isinstance(o, float): return b'\xcb' + struct.pack('>d', o)
    if isinstance(o, str):
        b = o.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32
                else b'\xd9' + bytes([len(b)]) if len(b) < 256
                else b'\xda' + struct.pack('>H', len(b))) + b
    if isinstance(o, list):
        return bytes([0x90 | len(o)]) + b''.join(enc(x) for x in o)
    return bytes([0x80 | len(o)]) + b''.join(enc(k) + enc(v)
                                             for k, v in o.items())
for line in sys.stdin:
    sys.stdout.buffer.write(enc(json.loads(line)))
EOF
{
  ev e MQ1 $t0
  ev e anon $t0
  printf '[%s,%s]\n' "$(ev e MQ2 $t0)" "$(ev '' MQ3 $t0)"
  printf '5\n'
  ev e MQ4 $t0
} >"$T/mpbad.jsonl"
python3 "$T/mp.py" <"$T/mpbad.jsonl" >"$T/mpbad.mp"
{ sed -n 2p "$T/mpbad.jsonl"; ev '' MQ3 $t0; echo 5; } | python3 "$T/mp.py" \
  >"$T/mpbad.want"
run ingest "$T/dbmp" "$T/mpbad.mp" --rejects "$T/mprej.out" --json
expect_rc "MessagePack with rejects" 0
expect_json_has "MessagePack with rejects" '{"records":6,"rejected":3,"events":3}'
expect_out_err() { # the stderr lines, exactly
  printf '%s\n' "$2" >"$T/want"
  if cmp -s "$T/want" "$T/err"; then ok "$1"; else
    ko "$1" "$(diff "$T/want" "$T/err")"
  fi
}
expect_out_err "MessagePack rejects name the value" \
  "idgraph: $T/mpbad.mp: value 2: properties.distinct_id: distinct_id is a forbidden value: \"anon\"
idgraph: $T/mpbad.mp: value 3:1: event: event is empty
idgraph: $T/mpbad.mp: value 4: record is not a map"
if cmp -s "$T/mpbad.want" "$T/mprej.out"; then
  ok "MessagePack rejects file: raw bytes, back to back"
else
  ko "MessagePack rejects file differs" \
    "$(od -An -tx1 "$T/mprej.out" | head; echo; od -An -tx1 "$T/mpbad.want" | head)"
fi
# Soft limits beyond event values: names (an event's, properties' and
# nested ones) and profile operators' values, in both formats.
python3 -c '
import json
for r in [{"$distinct_id": "L1", "$set": {"s": "x" * 256}},
          {"$distinct_id": "L1", "$set": {"n": {"k" * 256: 1}},
           "$union": {"l": ["y" * 300]}},
          {"event": "e" * 256, "properties": {"distinct_id": "L1",
           "time": 1714564800}},
          {"event": "ok", "properties": {"distinct_id": "L1",
           "time": 1714564801, "p" * 256: 1, "q": {"r" * 256: "z" * 256}}},
          {"$distinct_id": "L1", "$set": {"s": "x" * 255}, "$add": {"c": 1}}]:
    print(json.dumps(r))
' >"$T/long.jsonl"
python3 "$T/mp.py" <"$T/long.jsonl" >"$T/long.mp"
# A second $set replaces the first, and with it the first's long string.
printf '{"$distinct_id":"L1","$set":{"s":"%s"},"$set":{"s":"y"}}\n' \
  "$(printf 'x%.0s' $(seq 300))" >>"$T/long.jsonl"
python3 -c '
import sys
exec(open(sys.argv[1]).read())  # enc(); its loop reads no line here
sys.stdout.buffer.write(b"\x83" + enc("$distinct_id") + enc("L1") +
    enc("$set") + enc({"s": "x" * 300}) + enc("$set") + enc({"s": "y"}))
' "$T/mp.py" </dev/null >>"$T/long.mp"
for f in long.jsonl long.mp; do
  run init "$T/dblong-$f"
  run ingest "$T/dblong-$f" "$T/$f" --json
  expect_eq "long names and profile values counted ($f)" \
    "$(jq_py '(d["rejected"], d["warning_counts"]["long_strings"], d["warnings"])')" \
    "(0, 7, 7)"
done

run ingest "$T/dbmp" "$T/mprej.out" --json
expect_json_has "the rejects file reads back as MessagePack" \
  '{"records":3,"rejected":3}'
expect_eq "the rejects file reads back as MessagePack: format" \
  "$(jq_py 'd["files"][0]["format"]')" msgpack
run ingest "$T/dbmp" "$T/rt.jsonl" "$T/mpbad.mp" --rejects "$T/mixed.out"
expect_rc "--rejects with JSON and MessagePack inputs" 2
expect_err "--rejects with JSON and MessagePack inputs" \
  "idgraph: --rejects cannot hold both JSON lines ($T/rt.jsonl) and MessagePack ($T/mpbad.mp); ingest them in separate runs"

# $distinct_id_before_identity after a merge, and the filters.
{
  printf '{"event":"Page View","properties":{"distinct_id":"%s","time":%s,"$insert_id":"p1"}}\n' "$D1" $t0
  identify U1 "$D1" $((t0 + 600))
  ev Buy U1 $((t0 + 700))
  ev Buy "$D2" $((t0 + 800))
} >"$T/merge.jsonl"
run init "$T/dbm"
run ingest "$T/dbm" "$T/merge.jsonl"
PV_AS_SENT="{\"event\":\"Page View\",\"properties\":{\"distinct_id\":\"$D1\",\"time\":$t0,\"\$insert_id\":\"p1\"}}"
PV_RESOLVED="{\"event\":\"Page View\",\"properties\":{\"distinct_id\":\"U1\",\"\$distinct_id_before_identity\":\"$D1\",\"time\":$t0,\"\$insert_id\":\"p1\"}}"
IDENT="{\"event\":\"\$identify\",\"properties\":{\"distinct_id\":\"U1\",\"\$anon_distinct_id\":\"$D1\",\"time\":$((t0 + 600))}}"
BUY1="{\"event\":\"Buy\",\"properties\":{\"distinct_id\":\"U1\",\"time\":$((t0 + 700))}}"
BUY2="{\"event\":\"Buy\",\"properties\":{\"distinct_id\":\"$D2\",\"time\":$((t0 + 800))}}"
run export events "$T/dbm"
expect_out "export events: \$distinct_id_before_identity after a merge" \
  "$PV_RESOLVED
$IDENT
$BUY1
$BUY2"
run export events "$T/dbm" --at $((t0 + 300))
expect_out "export events --at before the merge" "$PV_AS_SENT"
run export events "$T/dbm" --at 2024-05-01T12:11:00Z
expect_out "export events --at after the merge" "$PV_RESOLVED
$IDENT"
run export events "$T/dbm" --view reported
expect_out "export events --view reported" "$PV_AS_SENT
$IDENT
$BUY1
$BUY2"
run export events "$T/dbm" --event Buy
expect_out "export events --event" "$BUY1
$BUY2"
run export events "$T/dbm" --event Nope
expect_rc "export events --event never seen" 2
expect_err "export events --event never seen" "idgraph: --event: no event \
named \"Nope\"; known events: Page View, \$identify, Buy; see: idgraph \
export --help"
[ ! -s "$T/out" ] && ok "export events --event never seen: no output" ||
  ko "export events --event never seen: output" "$(cat "$T/out")"
run export events "$T/dbm" --from $((t0 + 600)) --to $(((t0 + 800) * 1000))
expect_out "export events --from/--to [from, to)" "$IDENT
$BUY1"
run export events "$T/dbm" --from 2024-05-01T12:11:41Z --event Buy
expect_out "export events --from with --event" "$BUY2"
run export events "$T/dbm" --to 2024-05-01T12:00:00.001Z
expect_out "export events --to alone" "$PV_RESOLVED"

# File memory: the same file again is skipped and changes nothing; so is
# a copy under another name; --force ingests it again.
snapshot() { # snapshot DB FILE: everything a database answers
  {
    "$BIN" export events "$1"
    "$BIN" export mappings "$1"
    "$BIN" log "$1" --json
    "$BIN" info "$1" --json
  } >"$2" 2>&1
}
snapshot "$T/dbm" "$T/snap1"
run ingest "$T/dbm" "$T/merge.jsonl"
expect_rc "re-ingest the same file" 0
expect_err "re-ingest: the note" \
  "idgraph: $T/merge.jsonl: already ingested (same content); skipped — use --force to ingest it again"
expect_eq "re-ingest: summary" "$(sed -n '1,3p;/^files:/s/, [0-9.]* s, .*//p' "$T/out")" \
  "records: 0
rejected: 0
events: 0
files: 1 (1 skipped)"
snapshot "$T/dbm" "$T/snap2"
if cmp -s "$T/snap1" "$T/snap2"; then ok "re-ingest: database unchanged"; else
  ko "re-ingest changed the database" "$(diff "$T/snap1" "$T/snap2")"
fi
cp "$T/merge.jsonl" "$T/merge-copy.jsonl"
run ingest "$T/dbm" "$T/merge-copy.jsonl" "$T/f1.jsonl" --json
expect_rc "a copy under another name" 0
expect_json_has "a copy under another name: skipped" \
  "{\"records\":1,\"skipped_files\":[\"$T/merge-copy.jsonl\"]}"
expect_eq "skipped file in files" "$(jq_py '[(f["skipped"], f["records"]) for f in d["files"]]')" \
  "[(True, 0), (False, 1)]"
expect_err "a copy under another name: the note" \
  "idgraph: $T/merge-copy.jsonl: already ingested (same content); skipped — use --force to ingest it again"
snapshot "$T/dbm" "$T/snap1"
run ingest "$T/dbm" "$T/merge.jsonl" --force --json
expect_rc "--force" 0
expect_json_has "--force ingests again: the \$insert_id event is a duplicate" \
  '{"records":4,"events":4,"duplicates":1,"skipped_files":[]}'
run export events "$T/dbm" --event Buy
expect_eq "--force: events without \$insert_id are stored again" \
  "$(wc -l <"$T/out")" 4
run export events "$T/dbm" --event "Page View"
expect_out "--force: the duplicate replaced the copy" "$PV_RESOLVED"

# A duplicate identity event is not applied again: same log, same graph.
printf '{"event":"$identify","properties":{"distinct_id":"U7","$anon_distinct_id":"%s","time":%s,"$insert_id":"id-7"}}\n' \
  "$D3" $t0 >"$T/ident.jsonl"
run ingest "$T/dbm" "$T/ident.jsonl"
"$BIN" log "$T/dbm" --json >"$T/log1"
"$BIN" export mappings "$T/dbm" >>"$T/log1"
run ingest "$T/dbm" "$T/ident.jsonl" --force --json
expect_json_has "duplicate \$identify: a duplicate, not applied" \
  '{"records":1,"events":1,"duplicates":1,"identity_events":0,"nodes_created":0}'
"$BIN" log "$T/dbm" --json >"$T/log2"
"$BIN" export mappings "$T/dbm" >>"$T/log2"
if cmp -s "$T/log1" "$T/log2"; then
  ok "duplicate \$identify: log and mappings unchanged"
else
  ko "duplicate \$identify: log or mappings changed" "$(diff "$T/log1" "$T/log2")"
fi

# Pipes are read as streams and not remembered.
run init "$T/dbpipe"
"$BIN" ingest "$T/dbpipe" <(cat "$T/merge.jsonl") --json >"$T/out" 2>"$T/err"
rc=$?
expect_rc "ingest a pipe by name" 0
expect_json_has "ingest a pipe by name" '{"records":4,"rejected":0}'
"$BIN" ingest "$T/dbpipe" <(cat "$T/merge.jsonl") --json >"$T/out" 2>"$T/err"
expect_json_has "a pipe again: not remembered" '{"records":4,"skipped_files":[]}'

# THE RESUME TEST: kill -9 an ingest mid-file, see the next ingest refuse
# the half-done file, resume it, and compare with one clean ingest.
resume_test() {
  local big=$T/big.jsonl db=$T/dbkill pid n=0 i ms total=300000 batch
  python3 "$SRC/bench/gen_events.py" $total >"$big" || {
    ko "resume test: cannot generate $big"
    return
  }
  # A collision build (-Dhash_bits=4) ingests this workload in quadratic
  # time: when 10000 records take over 2 s, a file of 20000 is as good a
  # test (the kill still lands after the first of several batches) and the
  # script stays within meson's timeout.
  head -n 10000 "$big" >"$T/calib.jsonl"
  "$BIN" init "$T/dbcalib" >/dev/null
  ms=$(date +%s%3N)
  "$BIN" ingest "$T/dbcalib" "$T/calib.jsonl" --nosync >/dev/null 2>&1
  ms=$(($(date +%s%3N) - ms))
  rm -rf "$T/dbcalib" "$T/calib.jsonl"
  if [ $ms -gt 2000 ]; then
    total=20000
    printf '# resume test: 10000 records took %d ms; a file of %d records\n' \
      $ms $total
    python3 "$SRC/bench/gen_events.py" $total >"$big"
  fi
  for batch in 5000 1000; do
    [ $total -lt 100000 ] && batch=$((batch / 5))
    rm -rf "$db"
    "$BIN" init "$db" >/dev/null
    "$BIN" ingest "$db" "$big" --batch-size $batch --quiet >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 1200); do
      n=$("$BIN" info "$db" 2>/dev/null | sed -n 's/^records: //p')
      [ "${n:-0}" -gt 0 ] && break
      kill -0 $pid 2>/dev/null || break
      sleep 0.05
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    n=$("$BIN" info "$db" | sed -n 's/^records: //p')
    [ "${n:-0}" -gt 0 ] && [ "$n" -lt $total ] && break
    printf '# resume test: the ingest was not killed mid-file (records %s); again with smaller batches\n' "$n"
  done
  if [ "${n:-0}" -gt 0 ] && [ "$n" -lt $total ]; then
    ok "resume test: killed mid-file ($n of $total records committed)"
  else
    ko "resume test: could not kill the ingest mid-file (records: $n)"
    return
  fi
  run ingest "$db" "$big"
  expect_rc "after kill -9: ingest without --resume" 1
  expect_err_one "after kill -9: ingest without --resume" \
    "idgraph: $big was partly ingested before ($n lines committed), or another ingest of it is running now; if none is, continue it with --resume (as if never stopped), or ingest it again from its start with --force (its committed records are then applied twice: events without \$insert_id stored twice)"
  run ingest "$db" "$big" --resume --json --quiet
  expect_rc "ingest --resume" 0
  expect_json_has "ingest --resume: the rest of the file" \
    "{\"records\":$(($total - n)),\"rejected\":0}"
  expect_eq "ingest --resume: resumed_at" "$(jq_py 'd["files"][0]["resumed_at"]')" \
    $((n + 1))
  expect_err "ingest --resume: the note" \
    "idgraph: $big: resumed at line $((n + 1)); what came before it was ingested by an earlier run"
  run ingest "$db" "$big" --resume
  expect_rc "ingest --resume once done" 0
  expect_err "ingest --resume once done: skipped" \
    "idgraph: $big: already ingested (same content); skipped — use --force to ingest it again"
  run init "$T/dbclean"
  run ingest "$T/dbclean" "$big" --nosync --json
  expect_json_has "clean ingest" "{\"records\":$total,\"rejected\":0}"
  for q in "export events" "export mappings" "log --json" "info --json"; do
    # shellcheck disable=SC2086
    "$BIN" $q "$db" >"$T/k1" 2>&1
    # shellcheck disable=SC2086
    "$BIN" $q "$T/dbclean" >"$T/k2" 2>&1
    if [ -s "$T/k1" ] && cmp -s "$T/k1" "$T/k2"; then
      ok "resumed = clean ingest: $q"
    else
      ko "resumed != clean ingest: $q" "$(cmp "$T/k1" "$T/k2"; head -c 300 "$T/k1")"
    fi
  done
  rm -rf "$db" "$T/dbclean" "$big"
}
resume_test

###########################################################################
# report uniques: SPEC §2.4, last row (merge delay 3600 s)

db=$T/dbrep
{
  ev view "$D1" $t0
  identify U1 "$D1" $((t0 + 600))
  ev view U1 $((t0 + 660))
  ev view U1 $((t0 + 86400))
  ev view X $((t0 + 86460))
} >"$T/rep.jsonl"
run init "$db"
run ingest "$db" "$T/rep.jsonl" --json
expect_json_has "report data ingested" '{"records":5,"rejected":0}'
run report uniques "$db" --at $((t0 + 1200))
expect_rc "report uniques at t+20min" 0
expect_out "report uniques at t+20min: 2 users reported" "unique users: 2
events: 2
pending merges: 1 (not yet in the reported view)
at: 2024-05-01T12:20:00.000Z
view: reported"
run report uniques "$db" --at $((t0 + 1200)) --view live --json
expect_json "report uniques live --json"
expect_json_has "report uniques at t+20min: 1 user live" \
  '{"uniques":1,"events":2,"pending_merges":1,"view":"live","interval":"total","at":"2024-05-01T12:20:00.000Z","at_ms":1714566000000}'
expect_eq "no series for total" "$(jq_py '"series" in d')" False
run report uniques "$db" --at $((t0 + 4260)) --json
expect_json_has "report uniques at t+71min: 1 user reported" \
  '{"uniques":1,"events":2,"pending_merges":0,"view":"reported"}'
run report uniques "$db" --at $(((t0 + 4200) * 1000)) --json
expect_json_has "report uniques at merge stamp + delay: 1 user" \
  '{"uniques":1,"pending_merges":0}'
run report uniques "$db" --at $(((t0 + 4200) * 1000 - 1)) --json
expect_json_has "report uniques 1 ms before: 2 users" \
  '{"uniques":2,"pending_merges":1}'
run report uniques "$db" --at $((t0 + 1200)) --event view --view reported --json
expect_json_has "report uniques --event view" '{"uniques":2,"events":2}'
run report uniques "$db" --event '$identify' --json
expect_json_has "identity events are no users" '{"uniques":0}'
run report uniques "$db" --interval day --json
expect_json "report uniques --interval day"
expect_eq "day series" \
  "$(jq_py '[(b["start"], b["start_ms"], b["uniques"], b["events"]) for b in d["series"]]')" \
  "[('2024-05-01T00:00:00.000Z', 1714521600000, 1, 2), ('2024-05-02T00:00:00.000Z', 1714608000000, 2, 2)]"
expect_json_has "day series totals" '{"uniques":2,"events":4,"interval":"day","pending_merges":0}'
run report uniques "$db" --interval hour --from 2024-05-01 --to 2024-05-02
expect_rc "report uniques --interval hour" 0
expect_out "report uniques --interval hour: table" "unique users: 1
events: 2
pending merges: 0 (not yet in the reported view)
at: 2024-05-02T12:01:00.000Z
view: reported

start                          users      events
2024-05-01T12:00:00.000Z           1           2"
run report uniques "$db" --interval day --view live --at $((t0 + 1200)) --json
expect_eq "day series as of t+20min, live" \
  "$(jq_py '[(b["start"], b["uniques"], b["events"]) for b in d["series"]]')" \
  "[('2024-05-01T00:00:00.000Z', 1, 2)]"

expect_usage "report uniques unknown event" report uniques "$db" --event nope
expect_eq "unknown event lists the known ones" "$(cat "$T/err")" \
  'idgraph: uniques: no event named "nope"; known events: view, $identify; see: idgraph report --help'
expect_usage "report uniques --from after --to" report uniques "$db" \
  --from 2024-05-02 --to 2024-05-01
expect_usage "report uniques --from = --to" report uniques "$db" \
  --from 2024-05-02 --to 2024-05-02
expect_usage "report uniques malformed --from" report uniques "$db" --from soon
expect_usage "report uniques malformed --to" report uniques "$db" --to 2024-13-01
expect_usage "report uniques malformed --at" report uniques "$db" --at yesterday
expect_usage "report uniques bad --interval" report uniques "$db" --interval week
expect_usage "report uniques bad --view" report uniques "$db" --view sideways
expect_usage "report uniques --steps" report uniques "$db" --steps a,b
expect_usage "report unknown kind" report retention "$db"
run report uniques "$T/nodb"
expect_rc "report on a missing database" 1

###########################################################################
# report funnel: a drop-off in the reported view that converts in live

db=$T/dbfun
{
  ev signup "$D1" $t0
  ev signup U2 $((t0 + 10))
  ev view U2 $((t0 + 20))
  ev signup U3 $((t0 + 30))
  identify U1 "$D1" $((t0 + 60))
  ev view U1 $((t0 + 120))
  ev buy U1 $((t0 + 180))
} >"$T/fun.jsonl"
run init "$db"
run ingest "$db" "$T/fun.jsonl"
run report funnel "$db" --steps signup,view,buy --json
expect_rc "report funnel" 0
expect_json "report funnel --json"
expect_eq "funnel, reported view: U1 drops off" \
  "$(jq_py '[(s["event"], s["users"], round(s["conversion"], 4)) for s in d["steps"]]')" \
  "[('signup', 3, 1.0), ('view', 1, 0.3333), ('buy', 0, 0.0)]"
expect_json_has "funnel --json fields" \
  '{"window_seconds":2592000,"pending_merges":1,"view":"reported","at":"2024-05-01T12:03:00.000Z"}'
run report funnel "$db" --steps signup,view,buy --view live
expect_rc "report funnel live" 0
expect_out "funnel, live view: U1 converts" "step  event        users  conversion
1     signup           3      100.0%
2     view             2       66.7%
3     buy              1       33.3%
window: 2592000 s
pending merges: 1 (not yet in the reported view)
at: 2024-05-01T12:03:00.000Z
view: live"
run report funnel "$db" --steps signup,view,buy --at $((t0 + 3660)) --json
expect_eq "funnel, reported view once the delay passed" \
  "$(jq_py '[s["users"] for s in d["steps"]]')" "[3, 2, 1]"
# Identity events are no one's steps, as they are no users in uniques:
# U1's $identify then view would be a conversion if they counted.
run report funnel "$db" --steps '$identify,view' --view live --json
expect_eq "funnel: identity events are no users" \
  "$(jq_py '[s["users"] for s in d["steps"]]')" "[0, 0]"
run report funnel "$db" --steps signup,view,buy --view live --window 100 --json
expect_eq "funnel --window 100: U1's view is too late" \
  "$(jq_py '[s["users"] for s in d["steps"]]')" "[3, 1, 0]"
expect_json_has "funnel --window in JSON" '{"window_seconds":100}'
run report funnel "$db" --steps signup,view --view live --from $((t0 + 5)) --json
expect_eq "funnel --from: first steps in range only" \
  "$(jq_py '[s["users"] for s in d["steps"]]')" "[2, 1]"
expect_usage "funnel unknown event" report funnel "$db" --steps signup,nope
expect_eq "funnel unknown event: the message" "$(cat "$T/err")" \
  'idgraph: funnel: no event named "nope"; known events: signup, view, $identify, buy; see: idgraph report --help'
expect_usage "funnel empty --steps" report funnel "$db" --steps ''
expect_usage "funnel one step" report funnel "$db" --steps signup
expect_eq "funnel one step: the message" "$(cat "$T/err")" \
  'idgraph: funnel: a funnel needs two or more steps; see: idgraph report --help'
expect_usage "funnel empty step name" report funnel "$db" --steps signup,,buy
expect_usage "funnel without --steps" report funnel "$db"
expect_usage "funnel --from after --to" report funnel "$db" --steps signup,buy \
  --from 2024-05-02 --to 2024-05-01
expect_usage "funnel malformed --from" report funnel "$db" --steps signup,buy --from 2024-02-30
expect_usage "funnel malformed --at" report funnel "$db" --steps signup,buy --at soon
expect_usage "funnel --window 0" report funnel "$db" --steps signup,buy --window 0
expect_usage "funnel bad --window" report funnel "$db" --steps signup,buy --window week
expect_usage "funnel bad --view" report funnel "$db" --steps signup,buy --view both
expect_usage "funnel --interval" report funnel "$db" --steps signup,buy --interval day

###########################################################################
# profile, profiles, export profiles

db=$T/dbprof
prof() { # prof DISTINCT_ID TIME OPERATOR VALUE
  printf '{"$distinct_id":"%s","$time":%s,"%s":%s}\n' "$1" "$2" "$3" "$4"
}
{
  prof U1 $t0 '$set' '{"name":"Ann","plan":"pro"}'
  prof U1 $((t0 + 1)) '$add' '{"visits":2}'
  prof U1 $((t0 + 2)) '$add' '{"visits":3}'
  prof U1 $((t0 + 3)) '$union' '{"tags":["a","b"]}'
  prof U1 $((t0 + 4)) '$union' '{"tags":["b","c"]}'
  ev view "$D1" $((t0 + 5))
  prof "$D1" $((t0 + 6)) '$set' '{"src":"ad"}'
  identify U1 "$D1" $((t0 + 100))
  prof U2 $((t0 + 200)) '$set' '{"name":"Bob","plan":"free"}'
  prof U3 $((t0 + 210)) '$set' '{"plan":"pro","age":30}'
} >"$T/prof.jsonl"
run init "$db"
run ingest "$db" "$T/prof.jsonl" --json
expect_json_has "profile updates ingested" '{"records":10,"rejected":0}'
run profile "$db" "$D1"
expect_rc "profile of the anonymous id" 0
expect_out "profile: Explore view after the merge" "distinct_id: U1
distinct_ids: U1, $D1
properties:
  name: \"Ann\"
  plan: \"pro\"
  \$last_seen: \"2024-05-01T12:00:04\"
  visits: 5
  tags: [\"a\",\"b\",\"c\"]"
run profile "$db" U1 --json
expect_json "profile --json"
expect_json_has "profile --json" \
  "{\"\$distinct_id\":\"U1\",\"\$distinct_ids\":[\"U1\",\"$D1\"],\"\$properties\":{\"name\":\"Ann\",\"plan\":\"pro\",\"visits\":5,\"tags\":[\"a\",\"b\",\"c\"],\"\$last_seen\":\"2024-05-01T12:00:04\"}}"
ev view U9 $t0 >"$T/u9.jsonl"
run ingest "$db" "$T/u9.jsonl"
run profile "$db" U9
expect_out "profile: an id with no profile" "distinct_id: U9
distinct_ids: U9
properties: no profile"
run profile "$db" U9 --json
expect_json_has "profile --json: no profile" '{"$distinct_id":"U9","$distinct_ids":["U9"],"$properties":null}'
run profile "$db" nobody
expect_rc "profile of an unknown id" 1
expect_err "profile of an unknown id" "idgraph: distinct_id \"nobody\" not found in $db"

run profiles "$db"
expect_rc "profiles" 0
expect_out "profiles: one block per active profile" "U1
  distinct_ids: U1, $D1
  name: \"Ann\"
  plan: \"pro\"
  \$last_seen: \"2024-05-01T12:00:04\"
  visits: 5
  tags: [\"a\",\"b\",\"c\"]

U2
  distinct_ids: U2
  name: \"Bob\"
  plan: \"free\"
  \$last_seen: \"2024-05-01T12:03:20\"

U3
  distinct_ids: U3
  plan: \"pro\"
  age: 30
  \$last_seen: \"2024-05-01T12:03:30\"

3 profiles"
run profiles "$db" --json
expect_json "profiles --json"
expect_eq "profiles --json: export shape" \
  "$(jq_py '[(p["$distinct_id"], p["$distinct_ids"], p["$properties"].get("plan"), "$hidden" in p) for p in L]')" \
  "[('U1', ['U1', '$D1'], 'pro', False), ('U2', ['U2'], 'free', False), ('U3', ['U3'], 'pro', False)]"
cp "$T/out" "$T/profiles.json"
run export profiles "$db"
expect_rc "export profiles" 0
if cmp -s "$T/out" "$T/profiles.json"; then ok "export profiles = profiles --json"; else
  ko "export profiles != profiles --json" "$(diff "$T/out" "$T/profiles.json")"
fi
# A profiles export is not a profile update: rejected, with the jq command
# that makes it one; that command's output restores the properties.
run init "$T/dbprof2"
run ingest "$T/dbprof2" "$T/profiles.json"
expect_rc "ingest a profiles export: nothing valid" 1
expect_eq "ingest a profiles export: the way to make it updates" \
  "$(head -n 1 "$T/err")" "idgraph: $T/profiles.json:1: a profile update \
needs an operator: \$set, \$set_once, \$add, \$append, \$union, \$remove, \
\$unset or \$delete (a profiles export's \$properties becomes one with: \
jq -c '{\"\$distinct_id\", \"\$set\": .\"\$properties\"}')"
jq -c '{"$distinct_id", "$set": ."$properties"}' "$T/profiles.json" \
  >"$T/profiles_set.jsonl"
run ingest "$T/dbprof2" "$T/profiles_set.jsonl" --json
expect_json_has "the advised jq command's output ingests" \
  '{"records":3,"rejected":0,"profile_updates":3}'
run profiles "$T/dbprof2" --json
expect_eq "the advised jq command restores the properties" \
  "$(jq_py '[(p["$distinct_id"], p["$properties"].get("plan")) for p in L]')" \
  "[('U1', 'pro'), ('U2', 'free'), ('U3', 'pro')]"
run profiles "$db" --hidden --json
expect_eq "profiles --hidden: the anonymous id's profile lost the merge" \
  "$(jq_py '[(p["$distinct_id"], p["$properties"].get("src"), p.get("$hidden")) for p in L]')" \
  "[('U1', None, None), ('$D1', 'ad', True), ('U2', None, None), ('U3', None, None)]"
cp "$T/out" "$T/profiles_hidden.json"
run export profiles "$db" --hidden
if cmp -s "$T/out" "$T/profiles_hidden.json"; then ok "export profiles --hidden = profiles --hidden --json"; else
  ko "export profiles --hidden differs" "$(diff "$T/out" "$T/profiles_hidden.json")"
fi
run profiles "$db" --hidden --limit 2
expect_eq "profiles --hidden: marked in the text" "$(grep -c '^'"$D1"' (hidden)$' "$T/out")" 1
run profiles "$db" --where plan=pro --json
expect_eq "profiles --where plan=pro" "$(jq_py '[p["$distinct_id"] for p in L]')" "['U1', 'U3']"
run profiles "$db" --where age=30 --json
expect_eq "profiles --where age=30 (a number)" "$(jq_py '[p["$distinct_id"] for p in L]')" "['U3']"
run profiles "$db" --where plan=none
expect_out "profiles --where with no match" "0 profiles"
run profiles "$db" --where plan=pro --limit 1 --json
expect_eq "profiles --where --limit 1" "$(jq_py '[p["$distinct_id"] for p in L]')" "['U1']"
run profiles "$db" --limit 2 --json
expect_eq "profiles --limit 2" "$(jq_py '[p["$distinct_id"] for p in L]')" "['U1', 'U2']"
run export profiles "$db" --format msgpack
expect_rc "export profiles --format msgpack" 0
expect_eq "MessagePack profiles start with a map" \
  "$(python3 -c 'import sys; b = sys.stdin.buffer.read(1)[0]; print(0x80 <= b <= 0x8f or b in (0xde, 0xdf))' <"$T/out")" True
expect_usage "profiles --where without =" profiles "$db" --where plan
expect_usage "profiles --where without a name" profiles "$db" --where =pro
expect_usage "profiles --limit 0" profiles "$db" --limit 0
expect_usage "profiles bad --limit" profiles "$db" --limit many
expect_usage "export profiles --at" export profiles "$db" --at 5
expect_usage "export profiles bad --format" export profiles "$db" --format csv
expect_usage "export events --hidden" export events "$db" --hidden
expect_usage "profile without id" profile "$db"

###########################################################################
# init --mode simplified|legacy: SPEC §2.4 rows through resolve and report

# sev NAME DISTINCT_ID TIME [DEVICE [USER]]: an event as mixpanel-browser sends
sev() {
  local extra=""
  [ -n "${4:-}" ] && extra="$extra,\"\$device_id\":\"$4\""
  [ -n "${5:-}" ] && extra="$extra,\"\$user_id\":\"$5\""
  printf '{"event":"%s","properties":{"distinct_id":"%s","time":%s%s}}\n' \
    "$1" "$2" "$3" "$extra"
}
run init "$T/dbs1" --mode simplified
expect_rc "init --mode simplified" 0
expect_out "init --mode simplified" \
  "created $T/dbs1: mode simplified, merge delay 3600 s, cluster cap 500"
{
  sev e '$device:D1' $t0 D1
  sev e '$device:D1' $((t0 + 60)) D1
  sev e U1 $((t0 + 120)) D1 U1
} >"$T/s1.jsonl"
run ingest "$T/dbs1" "$T/s1.jsonl" --json
expect_json_has "simplified row 1: one link" '{"records":3,"rejected":0,"outcomes":{"merged":1,"noop":0,"errSameIDs":0,"errAnonDistinctIdNonGUIDForm":0,"errAnonDistinctIdAssignedAlready":0,"errManyIDs":0,"errAliasAlreadyExists":0,"errAliasCycle":0,"errMergeRequiresImport":0}}'
run resolve "$T/dbs1" '$device:D1'
expect_out "simplified row 1: {\$device:D1, U1}, canonical U1" "canonical: U1
cluster size: 2
members: \$device:D1, U1"
run report uniques "$T/dbs1" --view live --json
expect_json_has "simplified row 1: all 3 events count for U1 (live)" '{"uniques":1,"events":3}'
run report uniques "$T/dbs1" --json
expect_json_has "simplified row 1: reported view waits for the delay" '{"uniques":2,"pending_merges":1}'
run report uniques "$T/dbs1" --at $((t0 + 3720)) --json
expect_json_has "simplified row 1: reported after the delay" '{"uniques":1,"pending_merges":0}'
run init "$T/dbs1" --mode original
expect_rc "init: mode change refused on a simplified database" 1
expect_err_one "init: mode change refused names the mode" "idgraph: cannot change the mode of $T/dbs1: "
expect_eq "the message names simplified" "$(grep -c simplified "$T/err")" 1

run init "$T/dbs2" --mode simplified
{
  sev e U1 $t0 D1 U1
  sev e2 U2 $((t0 + 60)) D1 U2
  sev e charlie $((t0 + 100)) '+6512345678' charlie
  sev e '+6512345678' $((t0 + 120)) '' '+6512345678'
  sev '$identify' U4 $((t0 + 130)) D4 U4
} >"$T/s2.jsonl"
run ingest "$T/dbs2" "$T/s2.jsonl" --json
expect_json_has "simplified rows: outcomes" '{"rejected":0,"outcomes":{"merged":2,"noop":0,"errSameIDs":0,"errAnonDistinctIdNonGUIDForm":0,"errAnonDistinctIdAssignedAlready":1,"errManyIDs":0,"errAliasAlreadyExists":0,"errAliasCycle":0,"errMergeRequiresImport":0}}'
run resolve "$T/dbs2" U2 --json
expect_json_has "shared device: U2 stays alone" '{"canonical":"U2","cluster_size":1}'
run report uniques "$T/dbs2" --event e2 --view live --json
expect_json_has "shared device: the event counts for U2" '{"uniques":1,"events":1}'
run resolve "$T/dbs2" '$device:+6512345678'
expect_eq "phone number as device: charlie's" "$(head -n 1 "$T/out")" "canonical: charlie"
run resolve "$T/dbs2" '+6512345678' --json
expect_json_has "phone number as user: a new user" '{"canonical":"+6512345678","cluster_size":1}'
run resolve "$T/dbs2" U4 --json
expect_json_has "\$identify with \$device_id and \$user_id: no link" '{"canonical":"U4","cluster_size":1}'
run report uniques "$T/dbs2" --event e --view live --json
expect_json_has "simplified: 2 users of e (U1, charlie) and +6512345678" '{"uniques":3}'

run init "$T/dbl" --mode legacy --merge-delay 60
expect_out "init --mode legacy" \
  "created $T/dbl: mode legacy, merge delay 60 s, cluster cap 500"
{
  ev e 12345 $t0
  alias_ev sally@x 12345 $((t0 + 10))
  ev e sally@x $((t0 + 20))
  ev e XYZ $((t0 + 30))
  alias_ev sally@x XYZ $((t0 + 40))
  ev e 12345 $((t0 + 50))
  identify XYZ "$D1" $((t0 + 55))
  # a plain event here: it needs its distinct_id
  printf '{"event":"$merge","properties":{"distinct_id":"12345","$distinct_ids":["12345","XYZ"],"time":%s}}\n' $((t0 + 56))
} >"$T/l.jsonl"
run ingest "$T/dbl" "$T/l.jsonl" --json
expect_json_has "legacy row: second alias fails" '{"rejected":0,"outcomes":{"merged":1,"noop":0,"errSameIDs":0,"errAnonDistinctIdNonGUIDForm":0,"errAnonDistinctIdAssignedAlready":0,"errManyIDs":0,"errAliasAlreadyExists":1,"errAliasCycle":0,"errMergeRequiresImport":0}}'
run resolve "$T/dbl" sally@x
expect_out "legacy: sally@x is an alias of 12345" "canonical: 12345
cluster size: 2
members: 12345, sally@x"
run report uniques "$T/dbl" --event e --view live --json
expect_json_has "legacy: 2 users (12345 with sally@x's events, XYZ)" '{"uniques":2,"events":4}'
run report uniques "$T/dbl" --event e --json
expect_json_has "legacy: the reported view agrees, no merge pending" \
  '{"uniques":2,"events":4,"pending_merges":0}'
run resolve "$T/dbl" XYZ --json
expect_json_has "legacy: \$identify and \$merge are plain events" '{"canonical":"XYZ","cluster_size":1}'

###########################################################################
# compare: a small fixed stream, every cell computed by hand from SPEC §2

S1=\$device:$D1
S2=\$device:$D2
{
  sev view "$S1" $t0 "$D1"
  printf '{"event":"$identify","properties":{"distinct_id":"U1","$anon_distinct_id":"%s","$device_id":"%s","$user_id":"U1","time":%s}}\n' "$S1" "$D1" $((t0 + 60))
  sev buy U1 $((t0 + 120)) "$D1" U1
  sev view "$S2" $((t0 + 180)) "$D2"
  prof "$S2" $((t0 + 190)) '$set' '{"x":1}'
  sev buy U2 $((t0 + 240)) "$D2" U2
  prof U2 $((t0 + 245)) '$set' '{"y":2}'
  printf '{"event":"$identify","properties":{"distinct_id":"U2","$anon_distinct_id":"%s","$device_id":"%s","$user_id":"U2","time":%s}}\n' "$S2" "$D2" $((t0 + 250))
  ev view A3 $((t0 + 290))
  alias_ev A3 U3 $((t0 + 300))
  ev view A3 $((t0 + 310))
  printf '{"event":"view","properties":{"time":%s}}\n' $((t0 + 320))
  prof U1 $((t0 + 330)) '$set' '{"plan":"pro"}'
  sev buy U4 $((t0 + 400)) "$D1" U4
} >"$T/cmp.jsonl"
mkdir -p "$T/ctmp"
# What each mode must give (SPEC §2.1-§2.3, §3, §5):
#  original: merges $identify U1, $identify U2, alias A3->U3; 7 ids; the
#    device D2's profile loses to U2's; users live: U1, U2, U3/A3, U4.
#  simplified: links D1->U1 (buy) and D2->U2 (buy); $identify and
#    $create_alias are plain; U4 on D1 is refused; D2's profile is hidden
#    when D2 links; users live: U1, U2, A3, U4.
#  legacy: only the alias merges; A3's first view stays A3's, the second is
#    U3's; users: $device:D1, U1, $device:D2, U2, A3, U3, U4.
cat >"$T/cmp_want.py" <<'EOF'
import json, sys
got = json.loads(sys.stdin.read())
reported, funnel = sys.argv[1] == "now", None
def o(merged, assigned=0):
    d = {r: 0 for r in ["errSameIDs", "errAnonDistinctIdNonGUIDForm",
         "errAnonDistinctIdAssignedAlready", "errManyIDs",
         "errAliasAlreadyExists", "errAliasCycle", "errMergeRequiresImport"]}
    d.update(merged=merged, noop=0, errAnonDistinctIdAssignedAlready=assigned)
    return d
def f(users):
    return [{"event": e, "users": u, "conversion": u / users[0]}
            for e, u in zip(["view", "buy"], users)]
want = {
  "original": dict(records=14, rejected=1, distinct_ids=7, clusters=3,
    uniques_live=4, uniques_reported=6 if reported else 4,
    uniques_event_live=3, uniques_event_reported=3, outcomes=o(3),
    largest_cluster=2, profiles_active=2, profiles_hidden=1,
    funnel=f([3, 0] if reported else [3, 2])),
  "simplified": dict(records=14, rejected=1, distinct_ids=7, clusters=2,
    uniques_live=4, uniques_reported=6 if reported else 4,
    uniques_event_live=3, uniques_event_reported=3, outcomes=o(2, 1),
    largest_cluster=2, profiles_active=2, profiles_hidden=1,
    funnel=f([3, 0] if reported else [3, 2])),
  "legacy": dict(records=14, rejected=1, distinct_ids=7, clusters=1,
    uniques_live=7, uniques_reported=7, uniques_event_live=3,
    uniques_event_reported=3, outcomes=o(1), largest_cluster=2,
    profiles_active=3, profiles_hidden=0, funnel=f([4, 0])),
}
bad = []
if list(got) != list(want):
    bad.append("modes: %s" % list(got))
for m in want:
    for k, v in want[m].items():
        if got.get(m, {}).get(k) != v:
            bad.append("%s.%s: got %s, want %s" % (m, k, got.get(m, {}).get(k), v))
print("\n".join(bad))
EOF
TMPDIR=$T/ctmp run compare "$T/cmp.jsonl" --event buy --funnel view,buy --json
expect_rc "compare --json" 0
expect_json "compare --json"
expect_eq "compare: every cell, reported view at the last stamp" \
  "$(python3 "$T/cmp_want.py" now <"$T/out")" ""
expect_eq "compare: T is the last stamp" "$(jq_py 'd["legacy"]["at"]')" "2024-05-01T12:06:40.000Z"
expect_eq "compare: temporary databases removed" "$(ls -A "$T/ctmp" | wc -l)" 0
TMPDIR=$T/ctmp run compare "$T/cmp.jsonl" --event buy --funnel view,buy --json --at $((t0 + 4100))
expect_eq "compare: every cell, once the merges are reported" \
  "$(python3 "$T/cmp_want.py" later <"$T/out")" ""
TMPDIR=$T/ctmp run compare "$T/cmp.jsonl"
expect_rc "compare table" 0
expect_eq "compare table: header" "$(head -n 1 "$T/out" | tr -s ' ')" " original simplified legacy"
expect_eq "compare table: rows" "$(sed '1d;$d' "$T/out" | sed 's/  */ /g')" "records 14 14 14
rejected 1 1 1
distinct ids 7 7 7
clusters (2+) 3 2 1
unique users (live) 4 4 7
unique users (reported) 6 6 7
merges: merged 3 2 1
merges: noop 0 0 0
merges: errAnonDistinctIdAssignedAlready 0 1 0
largest cluster 2 2 2
profiles active 2 2 3
profiles hidden 1 1 0"
TMPDIR=$T/ctmp run compare "$T/cmp.jsonl" --modes legacy,original --steps view,buy
cp "$T/out" "$T/cmp_steps.out"
TMPDIR=$T/ctmp run compare "$T/cmp.jsonl" --modes legacy,original --funnel view,buy
expect_eq "compare --funnel = compare --steps" "$(cat "$T/out")" \
  "$(cat "$T/cmp_steps.out")"
expect_eq "compare --modes: columns in order" "$(head -n 1 "$T/out" | tr -s ' ')" " legacy original"
expect_eq "compare --funnel rows" "$(grep '^funnel' "$T/out" | sed 's/  */ /g')" "funnel 1. view 4 (100.0%) 3 (100.0%)
funnel 2. buy 0 (0.0%) 0 (0.0%)"
expect_eq "compare: no errAnonDistinctIdAssignedAlready row without simplified" \
  "$(grep -c errAnon "$T/out")" 0
expect_usage "compare --steps and --funnel" compare "$T/cmp.jsonl" \
  --steps view,buy --funnel view,buy
TMPDIR=$T/ctmp run compare "$T/cmp.jsonl" --event nope
expect_rc "compare unknown --event" 2
expect_err_one "compare unknown --event" 'idgraph: uniques: no event named "nope"'
expect_eq "compare: removed after a failure too" "$(ls -A "$T/ctmp" | wc -l)" 0
chmod 500 "$T/ctmp"
TMPDIR=$T/ctmp run compare "$T/cmp.jsonl"
if [ -w "$T/ctmp" ]; then ok "compare uses TMPDIR (skipped: running as root)"; else
  expect_rc "compare with an unwritable TMPDIR" 1
  expect_err_one "compare with an unwritable TMPDIR" "idgraph: cannot make a temporary directory in $T/ctmp: "
fi
chmod 700 "$T/ctmp"
run compare "$T/cmp.jsonl" --keep "$T/keep" --json
expect_rc "compare --keep" 0
expect_eq "compare --keep: the databases" "$(ls "$T/keep" | tr '\n' ' ')" "legacy original simplified "
expect_eq "compare --keep: paths in JSON" "$(jq_py 'd["simplified"]["database"]')" "$T/keep/simplified"
run info "$T/keep/simplified" --json
expect_json_has "compare --keep: a simplified database" '{"mode":"simplified","records":13}'
run report uniques "$T/keep/legacy" --view live --json
expect_json_has "compare --keep: report on a kept database" '{"uniques":7}'
run compare "$T/cmp.jsonl" --keep "$T/keep"
expect_rc "compare --keep on used databases" 1
expect_err_one "compare --keep on used databases" "idgraph: cannot make directory $T/keep/original: "
run compare "$T/cmp.jsonl" --modes original --cluster-cap 1 --merge-delay 0 --json
expect_json_has "compare --cluster-cap 1 --merge-delay 0" '{"original":{"records":14,"rejected":1,"distinct_ids":7,"clusters":0,"uniques_live":6,"uniques_reported":6,"uniques_event_live":null,"uniques_event_reported":null,"outcomes":{"merged":0,"noop":0,"errSameIDs":0,"errAnonDistinctIdNonGUIDForm":0,"errAnonDistinctIdAssignedAlready":0,"errManyIDs":3,"errAliasAlreadyExists":0,"errAliasCycle":0,"errMergeRequiresImport":0},"largest_cluster":1,"profiles_active":3,"profiles_hidden":0,"funnel":null,"pending_merges":0,"at":"2024-05-01T12:06:40.000Z","database":null}}'
expect_usage "compare bad --modes" compare "$T/cmp.jsonl" --modes original,fancy
expect_usage "compare repeated mode" compare "$T/cmp.jsonl" --modes original,original
expect_usage "compare empty --modes" compare "$T/cmp.jsonl" --modes ''
expect_usage "compare one-step --funnel" compare "$T/cmp.jsonl" --funnel view
expect_usage "compare bad --at" compare "$T/cmp.jsonl" --at soon
expect_usage "compare bad --merge-delay" compare "$T/cmp.jsonl" --merge-delay soon
expect_usage "compare bad --cluster-cap" compare "$T/cmp.jsonl" --cluster-cap x
expect_usage "compare stdin" compare -
expect_usage "compare without files" compare
run compare "$T/nofile.jsonl"
expect_rc "compare a missing file" 1
expect_err_one "compare a missing file" "idgraph: cannot read $T/nofile.jsonl: "

for c in report profile profiles compare; do
  run "$c" --help
  expect_eq "$c --help" "$(head -n 1 "$T/out" | cut -d' ' -f1-3)" "usage: idgraph $c"
done

# Profile updates in the ingest summary: counts and the three warnings.
printf '%s\n' \
  '{"$distinct_id":"6f1c3b1e-0000-4a1b-9c1d-0000000000aa","$set":{"a":1}}' \
  '{"$distinct_id":"psum","$set":{"s":"x"}}' \
  '{"$distinct_id":"psum","$add":{"s":1}}' \
  '{"$distinct_id":"psum","$delete":""}' >"$T/psum.jsonl"
run init "$T/dbpsum"
run ingest "$T/dbpsum" "$T/psum.jsonl" --json
expect_json_has "ingest --json profile counts" \
  '{"profile_updates":4,"profiles_created":2,"profiles_deleted":1,"warnings":2,"warning_counts":{"long_strings":0,"many_properties":0,"type_clashes":1,"profiles_over_2000_properties":0,"profiles_for_anonymous_ids":1}}'
rm -rf "$T/dbpsum"
run init "$T/dbpsum"
run ingest "$T/dbpsum" "$T/psum.jsonl"
expect_eq "ingest summary: profile updates" \
  "$(grep '^profile updates' "$T/out")" \
  "profile updates: 4 (2 profiles created, 1 deleted)"
expect_eq "ingest summary: anonymous profile warning" \
  "$(grep 'profiles_for_anonymous_ids' "$T/out")" \
  "  profiles_for_anonymous_ids: 1"

# --threads: one thread or two give the same database, rejects and summary.
run gen --events 3000 --seed 7 --noise
cp "$T/out" "$T/noisy.jsonl"
for n in 1 2; do
  run init "$T/dbthr$n"
  run ingest "$T/dbthr$n" "$T/noisy.jsonl" --threads $n --batch-size 500 \
    --rejects "$T/rej$n.jsonl"
  expect_rc "ingest --threads $n" 0
  grep -v '^files:\|^stages:' "$T/out" >"$T/sum$n"
  grep '^stages:' "$T/out" >"$T/stages$n"
  cp "$T/err" "$T/errthr$n"
  run export events "$T/dbthr$n"
  cp "$T/out" "$T/exthr$n"
done
expect_eq "--threads 1 and 2: same export" \
  "$(cmp -s "$T/exthr1" "$T/exthr2" && echo same)" "same"
expect_eq "--threads 1 and 2: same rejects file" \
  "$(cmp -s "$T/rej1.jsonl" "$T/rej2.jsonl" && echo same)" "same"
expect_eq "--threads 1 and 2: same messages" \
  "$(cmp -s "$T/errthr1" "$T/errthr2" && echo same)" "same"
# Where the time went: both stages with two threads, one with one.
num='[0-9][0-9]*\.[0-9][0-9]'
grep -q "^stages: parse $num s busy, $num s waiting; apply $num s busy, $num s waiting; commits $num s\$" "$T/stages2" &&
  ok "--threads 2: stages line" || ko "--threads 2: stages line" "$(cat "$T/stages2")"
grep -q "^stages: $num s busy; commits $num s\$" "$T/stages1" &&
  ok "--threads 1: stages line" || ko "--threads 1: stages line" "$(cat "$T/stages1")"
expect_eq "--threads 1 and 2: same summary" \
  "$(cmp -s "$T/sum1" "$T/sum2" && echo same)" "same"
expect_eq "--threads: the noisy input had rejects" \
  "$(test -s "$T/rej1.jsonl" && echo some)" "some"
expect_usage "ingest --threads 3" ingest "$T/dbthr1" "$T/noisy.jsonl" \
  --threads 3

###########################################################################
# explain against the identity log, on a generated workload: for the
# largest clusters, the merges of one id are exactly the log's merges
# between members, and the chain between two members is a chain of merges
# as short as a breadth-first search over the log finds.

run gen --events 20000 --seed 11
cp "$T/out" "$T/gen11.jsonl"
run init "$T/dbx11"
run ingest "$T/dbx11" "$T/gen11.jsonl" --quiet
expect_rc "explain workload: ingest" 0
"$BIN" log "$T/dbx11" --json >"$T/x11log.jsonl"
"$BIN" export mappings "$T/dbx11" --format jsonl >"$T/x11map.jsonl"
if python3 - "$BIN" "$T/dbx11" "$T/x11log.jsonl" "$T/x11map.jsonl" \
  >"$T/x11.out" 2>&1 <<'PY'
import collections, json, subprocess, sys
binary, db, logf, mapf = sys.argv[1:]
log = [json.loads(l) for l in open(logf)]
clusters = collections.defaultdict(list)
for l in open(mapf):
    r = json.loads(l)
    clusters[r["resolved_distinct_id"]].append(r["distinct_id"])
def explain(*ids):
    out = subprocess.run([binary, "explain", db, "--json", "--", *ids],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)
big = sorted(clusters.values(), key=len, reverse=True)[:15]
assert len(big[0]) >= 3, "the workload has clusters of 3 or more"
checked = 0
for members in big:
    ms = set(members)
    merges = [e for e in log if e["outcome"] == "merged"
              and e["ids"][0] in ms and e["ids"][1] in ms]
    adj = collections.defaultdict(list)
    for e in merges:
        adj[e["ids"][0]].append(e["ids"][1])
        adj[e["ids"][1]].append(e["ids"][0])
    got = explain(members[-1])
    assert got["cluster_size"] == len(members), got
    assert [m["seq"] for m in got["merges"]] == [e["seq"] for e in merges], (
        members[-1], got["merges"], merges)
    for a, b in [(members[0], members[-1]), (members[-1], members[1])]:
        dist = {a: 0}
        queue = [a]
        for u in queue:
            for w in adj[u]:
                if w not in dist:
                    dist[w] = dist[u] + 1
                    queue.append(w)
        got = explain(a, b)
        path, chain = got["path"], got["merges"]
        assert got["connected"] and path[0] == a and path[-1] == b, got
        assert len(chain) == dist[b] == len(path) - 1, (a, b, dist[b], got)
        for i, m in enumerate(chain):
            assert sorted(m["ids"]) == sorted(path[i:i + 2]), (i, got)
            assert m["seq"] in {e["seq"] for e in merges}, m
        checked += 1
canon = next(c for c, m in clusters.items() if m is big[0])
other = min(set(clusters) - {canon})
got = explain(big[0][0], other)
assert not got["connected"] and got["path"] is None, got
assert got["canonicals"] == [canon, other], got
print("checked", checked, "chains")
PY
then ok "explain agrees with the identity log ($(cat "$T/x11.out"))"
else ko "explain agrees with the identity log" "$(cat "$T/x11.out")"
fi

# Ids holding a NUL byte: the log gives their lengths, and explain finds
# the chain through "u\u0000x", not through "u" (strlen once cut it).
{
  printf '{"event":"$merge","properties":{"distinct_id":"plain","$distinct_ids":["plain","u\\u0000x"],"time":%s}}\n' $t0
  printf '{"event":"$merge","properties":{"distinct_id":"other","$distinct_ids":["u\\u0000x","other"],"time":%s}}\n' $((t0 + 1))
  printf '{"event":"$merge","properties":{"distinct_id":"u","$distinct_ids":["u","zed"],"time":%s}}\n' $((t0 + 2))
  printf '{"event":"$merge","properties":{"distinct_id":"zed","$distinct_ids":["zed","plain"],"time":%s}}\n' $((t0 + 3))
} >"$T/nul.jsonl"
run init "$T/dbnul"
run ingest "$T/dbnul" "$T/nul.jsonl" --json
expect_eq "ids with a NUL: ingested" \
  "$(jq_py '(d["rejected"], d["outcomes"]["merged"])')" "(0, 4)"
run explain "$T/dbnul" plain other --json
expect_eq "explain: the chain through an id with a NUL" \
  "$(jq_py '(d["path"], [m["ids"] for m in d["merges"]])')" \
  "(['plain', 'u\x00x', 'other'], [['plain', 'u\x00x'], ['u\x00x', 'other']])"
run log "$T/dbnul" --json
expect_eq "log --json: ids with a NUL whole" "$(jq_py 'L[1]["ids"]')" \
  "['u\x00x', 'other']"
# A canonical id holding a NUL ($merge keeps its first id's).
printf '{"event":"$merge","properties":{"distinct_id":"a","$distinct_ids":["a\\u0000b","a"],"time":%s}}\n' $t0 >"$T/nulc.jsonl"
run init "$T/dbnulc"
run ingest "$T/dbnulc" "$T/nulc.jsonl"
run log "$T/dbnulc" --json
expect_eq "log --json: a canonical id with a NUL whole" \
  "$(jq_py 'repr(d["canonical"])')" "'a\x00b'"
run explain "$T/dbnulc" a --json
expect_eq "explain --json: a canonical id with a NUL whole" \
  "$(jq_py '(d["canonical"], d["cluster_size"], len(d["merges"]))')" \
  "('a\x00b', 2, 1)"
run explain "$T/dbnulc" a
expect_eq "explain: a canonical id with a NUL, shown as \\x00" \
  "$(head -n 1 "$T/out")" 'a is in the cluster of a\x00b (2 ids), built by 1 merge:'

# Control bytes in ids and in reject messages are shown as \xNN in text
# for people: one value, one line; nothing for a terminal to run.
{
  printf '{"event":"$merge","properties":{"distinct_id":"c1","$distinct_ids":["c1","c\\n2\\u001b[31m"],"time":%s}}\n' $t0
  printf '{"event":"e","properties":{"distinct_id":"c1","time":%s,"$user_id":"bad\\nid"}}\n' $t0
  printf '{"$distinct_id":"undefined\\n","$set":{"a":1}}\n'
} >"$T/ctl.jsonl"
run init "$T/dbctl"
run ingest "$T/dbctl" "$T/ctl.jsonl"
expect_eq "control bytes: each reject on one line" "$(grep -c . "$T/err")" 1
expect_eq "control bytes: the reject's value escaped" \
  "$(cut -d: -f3- "$T/err" | grep -c 'x0a')" 1
run resolve "$T/dbctl" c1
expect_eq "resolve: control bytes of an id escaped" "$(cat "$T/out")" \
"canonical: c1
cluster size: 2
members: c1, c\x0a2\x1b[31m"
run log "$T/dbctl"
expect_eq "log: one line per entry, control bytes escaped" \
  "$(sed -n 2p "$T/out" | grep -c 'c1, c\\x0a2\\x1b\[31m')" 1
expect_eq "log: no raw escape byte" "$(tr -cd '\033' <"$T/out" | wc -c)" 0
run log "$T/dbctl" --json
expect_eq "log --json: the id exact" "$(jq_py 'L[0]["ids"][1]')" \
  "$(printf 'c\n2\033[31m')"
# C1 controls (U+0080 to U+009F: U+009B is a terminal's CSI) too; and a
# table's columns count characters, not bytes, so non-ASCII ids align.
{
  printf '{"event":"$merge","properties":{"distinct_id":"d1","$distinct_ids":["d1","d\\u009b31m"],"time":%s}}\n' $t0
  printf '{"event":"$merge","properties":{"distinct_id":"\\u00e9\\u00e9\\u00e9","$distinct_ids":["\\u00e9\\u00e9\\u00e9","x"],"time":%s}}\n' $((t0 + 1))
  printf '{"event":"$merge","properties":{"distinct_id":"abc","$distinct_ids":["abc","y"],"time":%s}}\n' $((t0 + 2))
} >"$T/c1.jsonl"
run init "$T/dbc1"
run ingest "$T/dbc1" "$T/c1.jsonl"
run resolve "$T/dbc1" d1
expect_eq "resolve: a C1 control escaped" "$(sed -n 3p "$T/out")" \
  'members: d1, d\xc2\x9b31m'
run log "$T/dbc1"
expect_eq "log: columns count characters" "$(python3 -c '
import sys
rows = open(sys.argv[1], encoding="utf-8").read().splitlines()[1:]
print(sorted({r.index("merged") for r in rows}))' "$T/out")" "[52]"

###########################################################################

checks_done
