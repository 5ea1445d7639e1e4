/* cli_help.c — the help of every command, the overview, `idgraph help`. */
#include "cli.h"

#include <stdio.h>

/* ------------------------------------------------------------------ */
/* The help of each command                                            */

#define TIME_HELP                                                              \
	"  --at T          as of stamp T (default: the database's current\n"   \
	"                  stamp). T is epoch seconds (a fraction is "         \
	"rounded\n"                                                            \
	"                  to the millisecond), epoch milliseconds (numbers\n" \
	"                  >= 1e11) or ISO 8601 UTC: 2024-05-01,\n"            \
	"                  2024-05-01T12:00:00Z, 2024-05-01T12:00:00.250Z,\n"  \
	"                  '2024-05-01 12:00:00' (Z, +00:00 or no suffix;\n"   \
	"                  other offsets are refused)\n"
#define VIEW_HELP                                                              \
	"  --view V        live (default): every merge stamped <= T; or\n"     \
	"                  reported: only merges stamped <= T - merge "        \
	"delay,\n"                                                             \
	"                  as Mixpanel's reports see them\n"
#define DASH_HELP "A DISTINCT_ID that begins with \"-\" goes after \"--\".\n"

const struct cmd_help help_init = {
    "init DIR [--mode original|simplified|legacy]\n"
    "                    [--merge-delay SECONDS] [--cluster-cap N]\n\n",
    "Creates an idgraph database in directory DIR (created if missing;\n"
    "an existing one must be empty).\n"
    "On an existing database it changes the settings given and keeps the\n"
    "others; the mode cannot change once the database holds a record.\n"
    "\n"
    "options:\n"
    "  --mode M             identity mode, fixed once the database\n"
    "                       holds a record:\n"
    "                       original (default): Original ID Merge,\n"
    "                         $identify/$create_alias/$merge merge clusters\n"
    "                       simplified: Simplified ID Merge, $user_id and\n"
    "                         $device_id on events link devices to users\n"
    "                       legacy: Legacy ID management, $create_alias\n"
    "                         maps an alias to an id, not retroactively\n"
    "  --merge-delay S      seconds before a merge shows in the reported\n"
    "                       view (default 3600; a fraction is allowed)\n"
    "  --cluster-cap N      original mode: most nodes in one cluster\n"
    "                       (default 500; 0 means no cap)\n"
    "\n"
    "prints: one line, e.g. \"created DIR: mode original, merge delay\n"
    "3600 s, cluster cap 500\".\n", NULL};

const struct cmd_help help_ingest = {
    "ingest DIR [FILE ...|-] [--rejects FILE] [--clock event|wall]\n"
    "                      [--format auto|jsonl|msgpack] [--force|--resume]\n"
    "                      [--batch-size N] [--nosync] [--threads 1|2]\n"
    "                      [--quiet] [--json]\n"
    "\n",
    "Ingests Mixpanel-shaped records from each FILE in order; \"-\" or no\n"
    "FILE reads stdin. The input is JSON lines ({\"event\": ...,\n"
    "\"properties\": {...}}, or a JSON array of them per line) or a stream\n"
    "of MessagePack maps (or arrays of maps) of the same shape. Every valid\n"
    "event is stored whole; identity events ($identify, $create_alias,\n"
    "$merge) also merge clusters by the database's mode.\n"
    "\n"
    "Duplicates: events with the same name, time in ms, distinct_id and\n"
    "$insert_id are one event. The last copy ingested wins: its properties\n"
    "replace the stored ones, and an identity event is not applied again.\n"
    "Events without $insert_id never are.\n"
    "\n"
    "File memory: each FILE is remembered by a hash of its content, with\n"
    "how far its ingest got, in the same transaction as each batch. A file\n"
    "ingested whole before (under any name) is skipped, with the note\n"
    "\"already ingested (same content); skipped\". A file an earlier run did\n"
    "not finish (a crash, kill -9) stops the ingest with exit status 1\n"
    "until --resume or --force says what to do. stdin and pipes are not\n"
    "remembered.\n"
    "\n"
    "Rejected records never stop the ingest: each is reported on stderr as\n"
    "\"idgraph: FILE:LINE[:INDEX]: FIELD: MESSAGE\", for MessagePack as\n"
    "\"idgraph: FILE: value N[:INDEX]: FIELD: MESSAGE\" (the first 20 per\n"
    "file, then a count of the rest; LINE and N count from 1, INDEX from 0\n"
    "within an array) and the exit status stays 0, unless no record of the\n"
    "inputs was valid: then it is 1, with advice for a file of JSON over\n"
    "several lines. The exit status is 1 on a storage or I/O failure: the\n"
    "batches committed before it are kept. A compressed input (gzip, zstd,\n"
    "xz, bzip2; on a pipe gzip, zstd, xz) is refused before anything is\n"
    "ingested, with the command that reads it.\n"
    "Blank lines, and a UTF-8 byte order mark before a file's first line,\n"
    "are skipped. MessagePack values JSON has no form for are rejected:\n"
    "bin for a string id or name, ext values other than a big integer's\n"
    "digits, names that are not strings, strings that are not valid\n"
    "UTF-8, NaN and infinities.\n"
    "\n"
    "options:\n"
    "  --rejects FILE   write each rejected record to FILE (replaced if it\n"
    "                   exists), ready to fix and ingest again: a JSON\n"
    "                   record's bytes and a newline; a MessagePack record's\n"
    "                   raw bytes as they are, back to back (a MessagePack\n"
    "                   stream). The inputs must then share one format,\n"
    "                   and FILE must be none of them\n"
    "  --clock C        event (default): stamp records with their own time;\n"
    "                   wall: with the wall clock\n"
    "  --format F       auto (default): MessagePack when an input's first\n"
    "                   byte opens a map or an array, JSON lines otherwise;\n"
    "                   jsonl; or msgpack\n"
    "  --force          ingest files again, from their start, that were\n"
    "                   ingested before, whole or in part (over what was\n"
    "                   committed: events without $insert_id are stored\n"
    "                   twice; after a crash, --resume is the clean way)\n"
    "  --resume         continue files an earlier run left unfinished at\n"
    "                   their first uncommitted record; other files are\n"
    "                   ingested (or skipped) as without it\n"
    "  --batch-size N   records per write transaction (default 500000)\n"
    "  --nosync         no flush of each batch to disk (faster; a crash\n"
    "                   may lose the last batches, never half of one)\n"
    "  --threads N      2 (default): read, parse and validate on a\n"
    "                   second thread while the first applies, up to\n"
    "                   32 chunks of 1,024 records (32 MiB at most)\n"
    "                   ahead; 1: one thread (a new file's content hash\n"
    "                   may still be made beside it). The results are\n"
    "                   the same\n"
    "  --quiet          no progress display\n"
    "  --json           print the summary as one JSON object\n"
    "\n",
    "prints: progress on stderr when it is a terminal (records, records/s,\n"
    "share of the file); a note on stderr for each file skipped, or resumed\n"
    "(\"idgraph: FILE: resumed at line N; ...\", \"value N\" for\n"
    "MessagePack); then a summary on stdout: records, rejected, events,\n"
    "duplicates, identity events, nodes created, profile updates (profiles\n"
    "created, deleted), merged, noop, refused by reason, warnings (the data\n"
    "is kept whole) by kind: strings over 255 bytes, events with more than\n"
    "255 properties, profile operator type clashes, profiles over 2000\n"
    "properties, profiles_for_anonymous_ids (Mixpanel's advice: profiles\n"
    "only for known users); \"files: N (S skipped, R resumed), seconds,\n"
    "records/s\"; and \"stages:\", where the time went: each stage's CPU\n"
    "time (busy; the apply stage's includes the commits' CPU time) and time\n"
    "blocked on the other (waiting), then the commits' whole time, flushes\n"
    "to disk included. With --json: {\"records\", \"rejected\", \"events\",\n"
    "\"duplicates\", \"identity_events\", \"nodes_created\",\n"
    "\"profile_updates\", \"profiles_created\", \"profiles_deleted\",\n"
    "\"outcomes\": {\"merged\", \"noop\", and every failure reason, zeros\n"
    "included}, \"warnings\", \"warning_counts\": {\"long_strings\",\n"
    "\"many_properties\", \"type_clashes\", \"profiles_over_2000_properties\",\n"
    "\"profiles_for_anonymous_ids\"}, \"files\":\n"
    "[{\"name\" (\"-\" for stdin), \"format\" (\"jsonl\" or \"msgpack\"),\n"
    "\"records\", \"rejected\", \"skipped\" (true or false), \"resumed_at\"\n"
    "(the first line or value read, or null)}], \"skipped_files\": [names],\n"
    "\"stages\": {\"parse_busy\", \"parse_wait\", \"apply_busy\",\n"
    "\"apply_wait\", \"commit_seconds\"} (parse_* are 0 with --threads 1),\n"
    "\"seconds\", \"records_per_second\"}. \"records\" counts every record\n"
    "read; \"events\" the valid events, duplicates included.\n"};

const struct cmd_help help_resolve = {
    "resolve DIR DISTINCT_ID [--at T] [--view live|reported]\n"
    "                       [--json]\n\n",
    "Resolves DISTINCT_ID to the canonical id of its cluster.\n"
    "\n"
    "options:\n" TIME_HELP VIEW_HELP "  --json          print one JSON object\n"
    "\n"
    "prints: \"canonical: X\", \"cluster size: N\" and \"members: a, b, c\"\n"
    "(in the order the database first saw them). With --json:\n"
    "{\"distinct_id\", \"canonical\", \"cluster_size\", \"members\": [...],\n"
    "\"at\": T in ISO 8601, \"at_ms\": T in milliseconds (both null\n"
    "without --at), \"view\"}. An id the database had\n"
    "not seen (by T) is an error (exit status 1).\n" DASH_HELP, NULL};

const struct cmd_help help_cluster = {
    "cluster DIR DISTINCT_ID [--at T] [--view live|reported]\n"
    "                       [--json]\n\n",
    "Lists the members of DISTINCT_ID's cluster, in the order the database\n"
    "first saw them.\n"
    "\n"
    "options:\n" TIME_HELP VIEW_HELP "  --json          print one JSON object\n"
    "\n"
    "prints: one member per line. With --json: the object `idgraph\n"
    "resolve --json` prints.\n" DASH_HELP, NULL};

const struct cmd_help help_log = {
    "log DIR [--json]\n\n",
    "Prints the identity log: every $identify, $create_alias and $merge in\n"
    "stamp order, with its outcome.\n"
    "\n"
    "options:\n"
    "  --json   print JSON lines\n"
    "\n"
    "prints: a table with the stamp (ISO 8601 UTC), the event, the two ids\n"
    "it named (identified and anonymous id for $identify, target and alias\n"
    "for $create_alias, the two ids of $merge), the outcome (merged, noop\n"
    "or refused), the reason of a refusal (\"-\" when none) and the\n"
    "cluster's canonical id afterwards. With --json, one object per line:\n"
    "{\"seq\", \"stamp\" (ms), \"time\" (ISO 8601), \"event\", \"ids\": [a, "
    "b],\n"
    "\"insert_id\", \"outcome\", \"reason\", \"description\", "
    "\"canonical\"};\n"
    "insert_id, reason and description are null when there is none.\n",
    NULL};

const struct cmd_help help_explain = {
    "explain DIR DISTINCT_ID [DISTINCT_ID] [--at T]\n"
    "                       [--view live|reported] [--json]\n\n",
    "Explains a cluster from the identity log. With one id: the merges that\n"
    "built its cluster, in stamp order. With two: the shortest chain of\n"
    "merges that connects them (the fewest merges; of chains as short, the\n"
    "first a breadth-first search from the first id finds, taking each\n"
    "id's merges in log order), or that they are not connected. Only\n"
    "merges applied as of T in the view count: those stamped <= T, or\n"
    "<= T - merge delay in the reported view.\n"
    "\n"
    "options:\n" TIME_HELP VIEW_HELP "  --json          print one JSON object\n"
    "\n"
    "prints: one id: \"ID is in the cluster of C (N ids), built by K\n"
    "merges:\" and a table of them: stamp (ISO 8601 UTC), event, the two\n"
    "ids it named and its $insert_id (\"-\" when none). Two ids: \"A and B\n"
    "are connected by K merges, in the cluster of C\", \"path: A -> ... ->\n"
    "B\" and the table of the chain's merges in path order; or \"A and B\n"
    "are not connected: A is in the cluster of C1, B in the cluster of C2\"\n"
    "(exit status 0). With --json, one id: {\"distinct_id\", \"canonical\",\n"
    "\"cluster_size\", \"at\", \"at_ms\", \"view\", \"merges\": [...]}; two ids:\n"
    "{\"distinct_ids\": [A, B], \"connected\", \"canonicals\": [C1, C2],\n"
    "\"path\": [A, ..., B] or null, \"at\", \"at_ms\", \"view\", \"merges\":\n"
    "[...]} (\"at\" and \"at_ms\" as in resolve); each\n"
    "merge is {\"seq\", \"stamp\", \"time\", \"event\", \"ids\": [a, b],\n"
    "\"insert_id\", \"canonical\"} as in `idgraph log --json`. An id the\n"
    "database had not seen (by T) is an error (exit status 1).\n" DASH_HELP,
    NULL};

const struct cmd_help help_export = {
    "export mappings DIR [--format csv|jsonl] [--at T]\n"
    "                      [--view live|reported]\n"
    "       idgraph export events DIR [--format jsonl|msgpack] [--at T]\n"
    "                      [--view live|reported] [--from T1] [--to T2]\n"
    "                      [--event NAME]\n"
    "       idgraph export profiles DIR [--format jsonl|msgpack] [--hidden]\n"
    "\n",
    "export mappings: the identity mappings in the shape of Mixpanel's\n"
    "mp_identity_mappings_data: one row per node of every cluster of two\n"
    "or more nodes, with the cluster's canonical id (which maps to itself).\n"
    "\n"
    "export events: the events stored as of T, in event-time order (ties in\n"
    "ingestion order), in Mixpanel's export shape, with\n"
    "properties.distinct_id replaced by the canonical id of its cluster in\n"
    "the view as of T, and the id as sent kept as\n"
    "$distinct_id_before_identity when it differs. Every other property is\n"
    "written back with its type and value: strings escaped as JSON needs\n"
    "(valid UTF-8 as it is, each byte of invalid UTF-8 as U+FFFD),\n"
    "integers in full (beyond 2^53 too), floats in the shortest form that\n"
    "reads back to the same value. `idgraph ingest` reads both formats.\n"
    "\n"
    "options:\n"
    "  --format F      mappings: csv (default) or jsonl;\n"
    "                  events: jsonl (default) or msgpack\n" TIME_HELP VIEW_HELP
    "  --from T1       events: only those with event time >= T1\n"
    "  --to T2         events: only those with event time < T2 (T1 must be\n"
    "                  before T2); T1 and T2 take the forms of T\n"
    "  --event NAME    events: only those named NAME (a name the database\n"
    "                  never saw is a usage error listing the known ones)\n"
    "  --hidden        profiles: hidden profiles too (those that lost a\n"
    "                  merge), each with \"$hidden\": true\n"
    "\n"
    "prints: mappings as CSV with the header\n"
    "\"distinct_id,resolved_distinct_id\", fields quoted as RFC 4180 says\n"
    "when they hold a comma, quote, CR or LF, lines ending in LF; or JSON\n"
    "lines {\"distinct_id\", \"resolved_distinct_id\"}. Events as JSON lines\n"
    "{\"event\", \"properties\"}, or MessagePack maps of that shape back to\n"
    "back.\n"
    "\n"
    "export profiles: every active profile (live view, now; profiles have\n"
    "no history, so no --at) as JSON lines {\"$distinct_id\": the\n"
    "cluster's canonical id, \"$properties\": {...}, \"$distinct_ids\":\n"
    "[every id of the cluster]}, or MessagePack maps of that shape. A\n"
    "hidden profile's \"$distinct_id\" is the id it is stored under.\n", NULL};

#define REPORT_TIME_HELP                                                       \
	"  --at T          report time (default: the database's current\n"     \
	"                  stamp): only records stamped <= T exist, and\n"     \
	"                  the views are taken as of T\n"                      \
	"  --view V        reported (default): a merge counts once its\n"      \
	"                  stamp is <= T - merge delay, as in Mixpanel's\n"    \
	"                  reports; or live: every merge stamped <= T\n"       \
	"  --from T1       only events (first-step events for a funnel)\n"     \
	"                  with event time >= T1\n"                            \
	"  --to T2         ... and < T2; T1 must be before T2. T, T1 and\n"    \
	"                  T2 are epoch seconds, epoch milliseconds\n"         \
	"                  (>= 1e11) or ISO 8601 UTC, as for resolve --at\n"

const struct cmd_help help_report = {
    "report uniques DIR [--event NAME] [--from T1] [--to T2]\n"
    "                      [--interval total|day|hour] [--at T]\n"
    "                      [--view reported|live] [--json]\n"
    "       idgraph report funnel DIR --steps A,B[,C...] [--window SECONDS]\n"
    "                      [--from T1] [--to T2] [--at T]\n"
    "                      [--view reported|live] [--json]\n\n",
    "report uniques: the number of distinct users among the matching events\n"
    "stamped <= T, where an event's user is the cluster of its distinct_id\n"
    "in the chosen view as of T. Events with an empty distinct_id count\n"
    "in \"events\" but never as users; $identify, $create_alias and $merge\n"
    "count in neither.\n"
    "\n"
    "report funnel: per step, the users who reached it and the conversion\n"
    "from step 1. A user reaches step k when, after a first-step event in\n"
    "[T1, T2), steps 2..k follow in order, each strictly later than the one\n"
    "before (event time, then ingestion order), all within the window of\n"
    "that first step; later steps may fall after T2. Each user counts once,\n"
    "at the furthest step reached. As in uniques, identity events and\n"
    "events with an empty distinct_id are no one's steps.\n"
    "\n"
    "Both say how many merges are still pending in the reported view at T\n"
    "(stamped in (T - merge delay, T]): that is why the two views differ.\n"
    "Legacy mode has none: its reports count the ids events were given\n"
    "when ingested, so both views agree and no merge changes them.\n"
    "\n"
    "options:\n"
    "  --event NAME    uniques: only events named NAME (default: all)\n"
    "  --interval I    uniques: total (default); day or hour: also one row\n"
    "                  per UTC day or hour of event time that has events\n"
    "  --steps A,B,..  funnel: two or more event names, in order (a name\n"
    "                  may repeat)\n"
    "  --window S      funnel: conversion window in seconds (default\n"
    "                  2592000: 30 days; fractions allowed)\n" REPORT_TIME_HELP
    "  --json          print one JSON object\n"
    "\n"
    "prints (uniques): \"unique users: N\", \"events: N\" (matching events,\n"
    "with or without a user), \"pending merges: N (not yet in the\n"
    "reported view)\", \"at: T\" (ISO 8601; \"none\" on an empty\n"
    "database), \"view: V\"; for day or hour, then a blank line and a\n"
    "table start / users / events (start in ISO 8601). With --json:\n"
    "{\"uniques\", \"events\", \"pending_merges\", \"at\" (ISO 8601),\n"
    "\"at_ms\", \"view\", \"interval\"}, plus \"series\": [{\"start\"\n"
    "(ISO 8601), \"start_ms\", \"uniques\", \"events\"}] for day or hour.\n"
    "\n"
    "prints (funnel): a table step / event / users / conversion (percent of\n"
    "step 1, one decimal), then \"window: S s\", the pending merges, \"at\"\n"
    "and \"view\" lines. With --json: {\"steps\": [{\"event\", \"users\",\n"
    "\"conversion\" (a fraction of step 1's users, 0 to 1; 0 when nobody\n"
    "started)}], \"window_seconds\", \"pending_merges\", \"at\", \"at_ms\",\n"
    "\"view\"}.\n"
    "\n"
    "Usage errors (exit status 2): an event name the database never saw\n"
    "(the message lists the known ones), an empty step name, fewer than\n"
    "two steps, --from not before --to, a malformed time, window, interval\n"
    "or view.\n", NULL};

const struct cmd_help help_profile = {
    "profile DIR DISTINCT_ID [--json]\n\n",
    "The Explore view of DISTINCT_ID (any member of a cluster): the\n"
    "canonical id, every distinct_id of the cluster (in the order the\n"
    "database first saw them) and the properties of the cluster's active\n"
    "profile, in the live view: an update or a merge shows at once.\n"
    "\n"
    "options:\n"
    "  --json   print one JSON object\n"
    "\n"
    "prints: \"distinct_id: CANONICAL\", \"distinct_ids: a, b, c\", then\n"
    "\"properties:\" and one \"  NAME: VALUE\" line per property (VALUE as\n"
    "JSON, types exact), or \"properties: no profile\". With --json: the\n"
    "profiles export's shape, {\"$distinct_id\": canonical, \"$properties\":\n"
    "{...} or null, \"$distinct_ids\": [...]}. An id the database never\n"
    "saw is an error (exit status 1).\n" DASH_HELP, NULL};

const struct cmd_help help_profiles = {
    "profiles DIR [--where PROP=VALUE] [--limit N] [--hidden]\n"
    "                      [--json]\n\n",
    "Lists the profiles, like Mixpanel's Users tab: the active profile of\n"
    "each cluster, in the order the profiles were made.\n"
    "\n"
    "options:\n"
    "  --where P=V   only profiles whose property P equals V: a string\n"
    "                property by its text (--where plan=pro), any other by\n"
    "                its JSON text (--where age=30, --where vip=true,\n"
    "                --where tags='[\"a\"]'); P ends at the first \"=\"\n"
    "  --limit N     at most N profiles (N >= 1; default: all)\n"
    "  --hidden      hidden profiles too: those that lost a merge, listed\n"
    "                under the id they are stored under\n"
    "  --json        print JSON lines\n"
    "\n"
    "prints: one block per profile: its distinct_id (the cluster's\n"
    "canonical id; \" (hidden)\" after a hidden one's), \"  distinct_ids:\n"
    "a, b\", and one \"  NAME: VALUE\" line per property (VALUE as JSON);\n"
    "blocks are separated by a blank line, and a last line says \"N\n"
    "profiles\". With --json, one object per line in the shape of export\n"
    "profiles: {\"$distinct_id\", \"$properties\", \"$distinct_ids\"}, and\n"
    "\"$hidden\": true on hidden ones.\n", NULL};

const struct cmd_help help_compare = {
    "compare FILE ... [--modes original,simplified,legacy]\n"
    "                      [--cluster-cap N] [--merge-delay S] [--event NAME]\n"
    "                      [--steps A,B,...] [--at T] [--keep DIR] [--json]\n"
    "\n",
    "Ingests the same FILEs (JSON lines or MessagePack, as ingest reads\n"
    "them, with the event clock) under each identity mode, each into its\n"
    "own new database, and prints the numbers side by side: what a move\n"
    "from one identity system to another would change, before it is made.\n"
    "The databases are made in a new temporary directory under $TMPDIR (or\n"
    "/tmp) and removed at the end, also when the command fails or is\n"
    "interrupted. Rejected records are counted, not listed (ingest lists\n"
    "them). stdin cannot be compared (it would be read once per mode).\n"
    "\n"
    "options:\n"
    "  --modes M,...     the modes, in the order of the columns (default\n"
    "                    original,simplified,legacy)\n"
    "  --cluster-cap N   original mode's cluster cap (default 500; 0: none)\n"
    "  --merge-delay S   the reported view's delay in seconds (default 3600)\n"
    "  --event NAME      also the unique users of events named NAME\n"
    "  --steps A,B,...   also a funnel of these steps (default window of 30\n"
    "                    days, reported view, at T), as report funnel\n"
    "                    --steps; --funnel A,B,... is the same option\n"
    "  --at T            report time (default: the databases' current stamp,\n"
    "                    the same in every mode), as for report --at\n"
    "  --keep DIR        make the databases in DIR/MODE (DIR is created if\n"
    "                    missing; DIR/MODE must not exist) and keep them,\n"
    "                    also after a failure, for report, profile, log...\n"
    "  --json            print one JSON object\n"
    "\n"
    "prints: a table, one column per mode, with the rows: records (read,\n"
    "valid or rejected), rejected, distinct ids, clusters (2+), unique\n"
    "users (live) and (reported) at T, the same for --event, merges:\n"
    "merged, merges: noop, merges: REASON for each refusal reason with a\n"
    "non-zero count in some mode, largest cluster, profiles active,\n"
    "profiles hidden, and per funnel step \"users (conversion%)\"; then a\n"
    "line with T and the merge delay. With --json: one object keyed by\n"
    "mode, each {\"records\", \"rejected\", \"distinct_ids\", \"clusters\",\n"
    "\"uniques_live\", \"uniques_reported\", \"uniques_event_live\",\n"
    "\"uniques_event_reported\" (null without --event), \"outcomes\" (as\n"
    "ingest --json: \"merged\", \"noop\" and every reason, zeros included),\n"
    "\"largest_cluster\", \"profiles_active\", \"profiles_hidden\",\n"
    "\"funnel\" (the \"steps\" list of report funnel --json, or null),\n"
    "\"pending_merges\", \"at\" (ISO 8601), \"database\" (the --keep path, or\n"
    "null)}. Simplified mode counts a device linked to a user as merged,\n"
    "and a device already linked to another user as\n"
    "errAnonDistinctIdAssignedAlready.\n", NULL};

const struct cmd_help help_info = {
    "info DIR [--json]\n\n",
    "Prints a database's settings and counters.\n"
    "\n"
    "options:\n"
    "  --json   print one JSON object\n"
    "\n"
    "prints: mode, merge delay, cluster cap, stamp (ms and ISO 8601 UTC;\n"
    "\"none\" before any record), records, nodes, log size. With --json:\n"
    "{\"mode\", \"merge_delay_ms\", \"cluster_cap\", \"stamp\" (null before\n"
    "any record), \"stamp_time\", \"records\", \"nodes\", \"log_size\"}.\n", NULL};

const struct cmd_help help_gen = {
    "gen --events N [--seed S] [--noise] [--format jsonl|msgpack]\n\n",
    "Writes a generated workload of N records to stdout, shaped like\n"
    "mixpanel-browser traffic: anonymous devices ($device:<uuid> with\n"
    "$device_id), logins with $identify ($anon_distinct_id, then $user_id\n"
    "and $device_id on every event), resets to a new device, second users\n"
    "on a shared device (refused merges), returning users on new devices,\n"
    "some sign-ups through alias(), a server's $create_alias and $merge,\n"
    "People updates of every operator (some with $time, some with\n"
    "$ignore_time), shop events (\"$mp_web_page_view\", \"Product View\",\n"
    "\"Add To Cart\", \"Purchase\", \"Search\") with ~250 bytes of\n"
    "properties, and $insert_id on 95% of the browser's events. Event\n"
    "times start at 2024-01-01T00:00:00Z and grow by 0 to 5 s a record.\n"
    "The same options always give the same bytes. Without --noise every\n"
    "record is valid input in every mode (an ingest rejects none).\n"
    "\n"
    "options:\n"
    "  --events N      records to write (events, profile updates, noise)\n"
    "  --seed S        the random seed (default 1)\n"
    "  --noise         also write about 1% each of exact duplicates (same\n"
    "                  $insert_id), events up to an hour late, and records\n"
    "                  to reject: malformed lines and forbidden ids\n"
    "                  (\"undefined\", \"null\", ...)\n"
    "  --format F      jsonl (default) or msgpack (a stream of maps; not\n"
    "                  to a terminal)\n"
    "\n"
    "prints: the records, one JSON object a line or MessagePack maps back\n"
    "to back.\n", NULL};

const struct cmd_help help_bench = {
    "bench [--events N] [--seed S] [--runs R] [--json]\n\n",
    "Runs the standard benchmark on a generated workload of N records\n"
    "(default 1000000; `idgraph gen --events N --seed S`), written to a\n"
    "temporary directory under $TMPDIR as JSON lines and as MessagePack,\n"
    "and measures in the same run, on the same files:\n"
    "  - JSONL and MessagePack ingest into fresh databases with durable\n"
    "    batch commits (JSONL also with --threads 1), against the parse\n"
    "    floor: the same parsers as ingest walking every record, no\n"
    "    database (idg_parse_only), and against the store floor: LMDB\n"
    "    alone writing the JSONL database's records into a new one, in\n"
    "    key order, in as many durable commits as the ingest had batches\n"
    "    (idg_store_only);\n"
    "  - resolve of random ids of the workload, warm, on one handle,\n"
    "    against an in-memory union-find;\n"
    "  - a replay of the identity events alone, against an in-memory\n"
    "    union-find, networkx connected components and min-label\n"
    "    propagation in SQLite over the merges the identity log says the\n"
    "    engine applied (bench/baselines.py; each skipped with a message\n"
    "    when python3, networkx or SQLite 3.33 is missing);\n"
    "  - a uniques report and a 3-step funnel (Product View, Add To Cart,\n"
    "    Purchase) in the reported view, against parsing the JSONL file;\n"
    "  - the events export in JSONL (to /dev/null), against parsing the\n"
    "    JSONL file;\n"
    "  - peak RSS of `idgraph ingest` of the JSONL file in a process of\n"
    "    its own, of this process (generator included), and the\n"
    "    database's bytes per record.\n"
    "Timed figures are the median of R runs (default 3). It also checks\n"
    "its results: ingest counts equal the generated counts, both\n"
    "formats and both thread counts give the same graph, and the\n"
    "union-find of the applied merges has exactly the engine's\n"
    "clusters, the export writes every stored event, and the store\n"
    "floor's copy holds the same graph; a failed check is exit status 1.\n"
    "IDGRAPH_BASELINES overrides where bench/baselines.py is found (by\n"
    "default, in the source tree's bench/).\n"
    "\n"
    "options:\n"
    "  --events N   records in the workload (at least 1000)\n"
    "  --seed S     the workload's seed (default 1)\n"
    "  --runs R     runs of each timed figure (default 3)\n"
    "  --json       print one JSON object\n"
    "\n"
    "prints: one table: each figure, its baseline and the ratio of the two\n"
    "(speed: engine / baseline, above 1 is faster than the baseline; size:\n"
    "engine / baseline); where the ingest time goes (the medians of\n"
    "`ingest`'s \"stages:\" line, for JSONL and MessagePack: which stage\n"
    "bounds the rate); then the checks. With --json: {\"events\",\n"
    "\"seed\", \"runs\", \"machine\", \"workload\", \"jsonl_ingest\",\n"
    "\"msgpack_ingest\", \"resolve\" (each {\"seconds\", \"per_second\",\n"
    "\"baseline_seconds\", \"baseline_per_second\", \"ratio\"}),\n"
    "\"store_only\" ({\"lmdb_records\", \"seconds\", \"per_second\",\n"
    "\"jsonl_ingest_ratio\", \"msgpack_ingest_ratio\"}), \"uniques\",\n"
    "\"funnel\", \"export\" ({\"events\", \"seconds\", \"per_second\",\n"
    "\"parse_only_seconds\", \"parse_only_per_second\", \"ratio\"}),\n"
    "\"graph\", \"peak_rss_bytes\",\n"
    "\"peak_rss_ingest_alone_bytes\", \"db_bytes\",\n"
    "\"ingest_stats\" (per input, the counts `ingest --json` prints),\n"
    "\"stages\": {\"jsonl\", \"msgpack\"} (each {\"parse_busy\",\n"
    "\"parse_wait\", \"apply_busy\", \"apply_wait\", \"commit_seconds\"}),\n"
    "\"graph_stats\", \"checks\": {\"counts_match\",\n"
    "\"msgpack_matches_jsonl\", \"one_thread_matches\", ...}, \"skipped\"};\n"
    "a skipped baseline's figures are null.\n",
    NULL};

const struct cmd_help help_version = {
    "version\n\n",
    "Prints \"idgraph VERSION\" (and the library's version when it\n"
    "differs from the one the tool was built with).\n", NULL};

/* ------------------------------------------------------------------ */
/* Printing it                                                         */

void
print_help(const struct command *c)
{
	printf("usage: idgraph %s%s%s", c->help->usage, c->help->text,
	       c->help->more ? c->help->more : "");
}

static void
print_overview(void)
{
	fputs("usage: idgraph COMMAND [ARGS] [OPTIONS]\n"
	      "\n"
	      "idgraph resolves Mixpanel identities (ID merge) in a local\n"
	      "database directory.\n"
	      "\n"
	      "commands:\n"
	      "  init DIR              create a database or change its "
	      "settings\n"
	      "  ingest DIR [FILE...]  ingest JSON lines or MessagePack from "
	      "files\n"
	      "                        or stdin\n"
	      "  resolve DIR ID        canonical id, cluster size and members\n"
	      "  cluster DIR ID        the members of ID's cluster\n"
	      "  log DIR               the identity log\n"
	      "  explain DIR ID [ID2]  the merges that built ID's cluster, or\n"
	      "                        the chain of merges from ID to ID2\n"
	      "  export mappings DIR   identity mappings (CSV or JSON lines)\n"
	      "  export events DIR     stored events with resolved ids (JSON "
	      "lines\n"
	      "                        or MessagePack)\n"
	      "  export profiles DIR   profiles (JSON lines or MessagePack)\n"
	      "  report uniques DIR    unique users, total or per day/hour\n"
	      "  report funnel DIR     users and conversion per funnel step\n"
	      "  profile DIR ID        the Explore view: ids and profile of a "
	      "user\n"
	      "  profiles DIR          list profiles, like the Users tab\n"
	      "  compare FILE...       the same input under each identity "
	      "mode\n"
	      "  info DIR              settings and counters of a database\n"
	      "  gen --events N        a generated Mixpanel-shaped workload\n"
	      "  bench                 the benchmark, with its baselines\n"
	      "  version               the version\n"
	      "  help COMMAND          help on a command (or: COMMAND --help)\n"
	      "\n"
	      "Options may come before or after the arguments; \"--\" ends "
	      "them\n"
	      "(for ids that begin with \"-\"). Times (--at T) are epoch "
	      "seconds,\n"
	      "epoch milliseconds (>= 1e11) or ISO 8601 UTC. Queries use the "
	      "live\n"
	      "view unless --view reported is given; reports use the "
	      "reported\n"
	      "view, as Mixpanel's do, unless --view live is given.\n"
	      "\n"
	      "exit status: 0 success, 1 failure, 2 usage error.\n",
	      stdout);
}

int
run_help(int argc, char **argv)
{
	const struct command *c;

	if (argc == 0) {
		print_overview();
		return finish_stdout();
	}
	if ((c = find_command(argv[0])) == NULL)
		return usage_error("no command '%s'; see: idgraph --help",
				   argv[0]);
	print_help(c);
	return finish_stdout();
}
