#!/usr/bin/env python3
"""baselines.py -- the Python baselines of `idgraph bench`.

Reads an edge list (one merge per line: two distinct_ids separated by a
tab, as `idgraph bench` writes the merges of the engine's identity log) and
computes its connected components twice, as an analyst and a warehouse job
would:

  networkx   networkx.connected_components over a Graph of the edges;
  sqlite     iterative min-label propagation in SQLite (python3's sqlite3,
             in memory): every id starts with its own label and takes the
             smallest label among its neighbours until nothing changes, the
             way a dbt model of identity stitching is written.

usage: baselines.py EDGES [--runs R]

Prints one line per baseline, for `idgraph bench` to read:

  networkx seconds S components C nodes N largest L
  sqlite seconds S components C nodes N largest L iterations I
  networkx skipped: REASON

S is the median of R runs and covers building the structure from the edge
list already in memory and computing the components. Exit status 0 unless
the arguments or the file are bad.
"""
import statistics
import sys
import time


def read_edges(path):
    edges = []
    with open(path, encoding="utf-8", newline="\n") as f:
        for line in f:
            a, b = line.rstrip("\n").split("\t")
            edges.append((a, b))
    return edges


def summary(sizes):
    return len(sizes), sum(sizes), max(sizes, default=0)


def run_networkx(nx, edges):
    g = nx.Graph()
    g.add_edges_from(edges)
    return summary([len(c) for c in nx.connected_components(g)]), None


def run_sqlite(sqlite3, edges):
    db = sqlite3.connect(":memory:")
    db.executescript("""
        CREATE TABLE e(a TEXT NOT NULL, b TEXT NOT NULL);
        CREATE TABLE lab(id TEXT PRIMARY KEY, l TEXT NOT NULL) WITHOUT ROWID;
    """)
    db.executemany("INSERT INTO e VALUES (?, ?)", edges)
    db.executescript("""
        INSERT INTO e SELECT b, a FROM e;
        CREATE INDEX e_a ON e(a);
        INSERT INTO lab SELECT a, a FROM e GROUP BY a;
    """)
    iterations = 0
    while True:
        iterations += 1
        cur = db.execute("""
            UPDATE lab SET l = m.l
            FROM (SELECT e.a AS id, MIN(n.l) AS l
                  FROM e JOIN lab AS n ON n.id = e.b GROUP BY e.a) AS m
            WHERE m.id = lab.id AND m.l < lab.l
        """)
        if cur.rowcount == 0:
            break
    sizes = [n for (n,) in db.execute(
        "SELECT COUNT(*) FROM lab GROUP BY l")]
    db.close()
    return summary(sizes), iterations


def measure(name, fn, module, edges, runs):
    times = []
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn(module, edges)
        times.append(time.perf_counter() - t0)
    (components, nodes, largest), iterations = result
    line = (f"{name} seconds {statistics.median(times):.6f} "
            f"components {components} nodes {nodes} largest {largest}")
    if iterations is not None:
        line += f" iterations {iterations}"
    print(line, flush=True)


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--runs"):
        print("usage: baselines.py EDGES [--runs R]", file=sys.stderr)
        return 2
    runs = int(argv[3]) if len(argv) == 4 else 1
    edges = read_edges(argv[1])
    try:
        import networkx
    except ImportError as e:
        print(f"networkx skipped: cannot import networkx ({e}); "
              "install python3-networkx", flush=True)
    else:
        measure("networkx", run_networkx, networkx, edges, runs)
    try:
        import sqlite3
        if sqlite3.sqlite_version_info < (3, 33, 0):
            raise ImportError(f"SQLite {sqlite3.sqlite_version} has no "
                              "UPDATE ... FROM (3.33 or later needed)")
    except ImportError as e:
        print(f"sqlite skipped: {e}", flush=True)
    else:
        measure("sqlite", run_sqlite, sqlite3, edges, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
