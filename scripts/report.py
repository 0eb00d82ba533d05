#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py RESULTS_DIR: summary.md and one gnuplot PNG per benchmark.
report.py --aggregate ROUNDS_CSV RESULTS_CSV: one row per point from rounds.

With several rounds (make bench ROUNDS=n, interleaved in one boot), a
point's value is the median of its rounds' medians and its spread is
(max - min) / median over those round values; with one round, the spread
within the run is kept.

Scaling efficiency compares a line's value at N CPUs with its value at one
CPU, in the direction that makes 1.0 perfect for that metric:
  throughput (ops_per_sec, pages_per_sec), summed over N workers:
      eff = v(N) / (N * v(1))
  time per page for a fixed amount of work per worker (memclone ns_per_page):
      eff = v(1) / v(N)
  total time of work that is serial by design and grows with N
  (mempass seconds, N workers in turn):
      eff = N * v(1) / v(N)
Counts (minflt_per_page) are not efficiencies; the summary shows them as is.

When RESULTS_DIR has rounds.csv (make bench, ROUNDS interleaved in one
boot), efficiency is computed within each round, from points measured
minutes apart in the same boot, and the summary gives the median over the
rounds with their range: the emulator drifts between slower and faster
phases over a run, which a ratio of two overall medians would mix in.  The
same holds for the ratios between two modes of one boot (shares against
threads, shares against io_uring).

Kernel cores get three tables: nullcall (the round trip of a no-op as a
system call, through io_uring's SQ poll thread and through a kernel core,
with kcore/uring and kcore/syscall ratios per round; the wake-up after
idle; the kernel core's CPU time while idle), dup/close through a kernel
core against threads and io_uring, and shmupdate (per-worker time per
update of 1-8 shared lines: directly, by pwrite64, through a kernel core).
shmupdate's metric names its line count (ns_per_update:8lines); its
efficiency is that of a time per worker.

Address ranges get two tables and two figures.  mempass: faults per page
per worker for threads, threads-shm, processes and corey, the worst one
worker took (minflt_per_page_worst, goal 0 in every round), and corey's
time / threads-shm's within each round (goal at most 1.2).  memclone and
pfchurn: each mode's scaling efficiency, corey's judged at 2 CPUs (goal at
least 0.95).  fig7a-KERNEL.png and fig7b-KERNEL.png redraw the paper's
figure 7 (memclone time per page, mempass total time) with three lines,
threads, processes and corey, for every kernel that ran corey.

Lock bounces per dup+close (LOCKSTAT=1) get their own table: the sum over
the file_lock classes (file_lock_bounces_per_op) and every lock class that
bounced (bounces_per_op:CLASS).  skipped.csv lists the modes a kernel
lacked a feature for; the summary names them.
"""
import csv
import os
import subprocess
import sys
from collections import defaultdict

THROUGHPUT = {"ops_per_sec", "pages_per_sec"}
TIME_PER_WORKER = {"ns_per_page", "ns_per_update"}
TIME_SERIAL = {"seconds"}
# Times of one operation that mean the same on every kernel (nullcall):
# compared against stock, but with no efficiency (--cpus places a server).
TIME_PER_OP = {"ns_per_op", "wake_ns"}

SHM_METRIC = "ns_per_update:"  # followed by "<L>lines"
NULLCALL_IDLE = ["busy_cpu_share", "busy_ticks_per_s", "idle_cpu_share", "idle_ticks_per_s"]
HEADER = ["kernel", "benchmark", "mode", "cpus", "metric", "value", "spread"]
SKIP_HEADER = ["kernel", "benchmark", "mode", "reason"]

FILE_LOCK_BOUNCES = "file_lock_bounces_per_op"
CLASS_BOUNCES = "bounces_per_op:"  # followed by the lock class's name
# Classes bouncing less than this per dup+close at every CPU count are
# counted, not listed, in the summary: background work of the kernel (timers,
# RCU) bounces a few locks during any run.  results.csv keeps them all.
BOUNCES_LISTED = 0.001

# Issue 5's goals for address ranges.  mempass: no corey worker takes a
# soft fault (the worst worker's minflt_per_page_worst is 0 in every round)
# and corey's time is within AR_MEMPASS_TIME_GOAL of threads on the same
# kind of memory (threads-shm).  memclone and pfchurn: corey scales like
# processes, AR_EFFICIENCY_GOAL at AR_EFFICIENCY_CPUS.
AR_MEMPASS_TIME_GOAL = 1.2      # corey seconds / threads-shm seconds, at most
AR_EFFICIENCY_GOAL = 0.95       # scaling efficiency, at least
AR_EFFICIENCY_CPUS = 2
AR_MODES = ("threads", "threads-shm", "processes", "corey")
AR_SCALING = (("memclone", "ns_per_page"), ("pfchurn", "pages_per_sec"))
WORST_FAULTS = "minflt_per_page_worst"
# Figure 7 of the paper: (file prefix, benchmark, metric, y label), and its
# three lines (mode, title); threads-shm is in the mempass table instead.
FIG7 = (("fig7a", "memclone", "ns_per_page", "time per page (ns)"),
        ("fig7b", "mempass", "seconds", "total time (s)"))
FIG7_LINES = (("threads", "Linux threads"), ("processes", "Linux processes"),
              ("corey", "Corey: cfork + address ranges"))

# The goals for dupclose in a private share (docs/shares.md):
# one thread within 3% of threads on share 0, and no slower than io_uring.
SHARES_VS_THREADS_GOAL = 0.97   # ops_per_sec ratio at 1 CPU, at least
SHARES_VS_URING_GOAL = 1.0      # time per op ratio at 1 CPU, at most


def is_lock_metric(metric):
    return metric == FILE_LOCK_BOUNCES or metric.startswith(CLASS_BOUNCES)


def base_metric(metric):
    """The metric without its qualifier (ns_per_update:8lines)."""
    return metric.split(":", 1)[0]


def efficiency(metric, n, v1, vn):
    metric = base_metric(metric)
    if v1 <= 0 or vn <= 0:
        return None
    if metric in THROUGHPUT:
        return vn / (n * v1)
    if metric in TIME_PER_WORKER:
        return v1 / vn
    if metric in TIME_SERIAL:
        return n * v1 / vn
    return None


def load_rows(lines, where="<rows>"):
    rows = []
    for lineno, row in enumerate(csv.reader(lines), start=2):
        if len(row) != len(HEADER):
            sys.exit(f"report: {where}:{lineno}: {len(row)} fields, expected {len(HEADER)}")
        k, b, m, c, metric, v, s = row
        rows.append((k, b, m, int(c), metric, float(v), float(s)))
    return rows


def load_skipped(path):
    """Rows of skipped.csv (kernel, benchmark, mode, reason)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != SKIP_HEADER:
        sys.exit(f"report: {path}: header is {rows[0] if rows else None}, expected {SKIP_HEADER}")
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(SKIP_HEADER):
            sys.exit(f"report: {path}:{lineno}: {len(row)} fields, expected {len(SKIP_HEADER)}")
    return [tuple(r) for r in rows[1:]]


def load(path):
    with open(path, newline="") as f:
        header = next(csv.reader([f.readline()]), None)
        if header != HEADER:
            sys.exit(f"report: {path}: header is {header}, expected {HEADER}")
        return load_rows(f, path)


def fmt(v):
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def round_series(rounds):
    """(kernel, bench, mode, metric, cpus) -> values in round order."""
    seen = defaultdict(list)
    for k, b, m, c, metric, v, s in rounds or []:
        seen[(k, b, m, metric, c)].append(v)
    return seen


def round_ratios(seen, key, ref_key):
    """[value / reference in round r], pairing the rounds of one boot, or
    None when the two points were not measured in the same rounds."""
    vals, refs = seen.get(key), seen.get(ref_key)
    if not vals or not refs or len(vals) != len(refs) or min(refs) <= 0:
        return None
    return [v / r for v, r in zip(vals, refs)]


def round_efficiencies(rounds):
    """(kernel, bench, mode, metric) -> cpus -> [efficiency in round r]."""
    seen = round_series(rounds)
    effs = defaultdict(dict)
    for (k, b, m, metric, c), vals in seen.items():
        ones = seen.get((k, b, m, metric, 1))
        if c == 1 or not ones or len(ones) != len(vals):
            continue
        e = [efficiency(metric, c, v1, vn) for v1, vn in zip(ones, vals)]
        if all(x is not None for x in e):
            effs[(k, b, m, metric)][c] = e
    return effs


def summary(rows, out, rounds=None, skipped=None):
    lines = defaultdict(dict)  # (kernel, bench, mode, metric) -> cpus -> (v, s)
    for k, b, m, c, metric, v, s in rows:
        lines[(k, b, m, metric)][c] = (v, s)
    seen = round_series(rounds)
    per_round = round_efficiencies(rounds) if rounds else {}
    cpus = sorted({r[3] for r in rows})
    with open(out, "w") as f:
        f.write("# Benchmark summary\n\n")
        if rounds:
            f.write("Value is the median over the rounds of each point's median, "
                    "(spread) is (max - min) / median over the rounds.  Efficiency "
                    "at N CPUs (1.0 is perfect scaling) is computed within each "
                    "round and given as the median over the rounds (min-max); see "
                    "scripts/report.py for each metric's definition.\n\n")
        else:
            f.write("Value is the median over the measurement intervals, (spread) is "
                    "(max - min) / median.  Efficiency at N CPUs is 1.0 for perfect "
                    "scaling; see scripts/report.py for each metric's definition.\n\n")
        head = ["kernel", "benchmark", "mode", "metric"] + cpu_heads(cpus)
        head += [f"eff@{c}" for c in cpus if c > 1]
        rows = []
        for key in sorted(lines):
            if is_lock_metric(key[3]):
                continue
            pts = lines[key]
            cells = list(key)
            for c in cpus:
                cells.append(f"{fmt(pts[c][0])} ({pts[c][1]:.0%})" if c in pts else "-")
            for c in cpus:
                if c == 1:
                    continue
                er = per_round.get(key, {}).get(c)
                if er:
                    cells.append(f"{median(er):.2f} ({min(er):.2f}-{max(er):.2f})")
                    continue
                e = None
                if 1 in pts and c in pts:
                    e = efficiency(key[3], c, pts[1][0], pts[c][0])
                cells.append(f"{e:.2f}" if e is not None else "-")
            rows.append(cells)
        write_table(f, head, rows)
        ratios(lines, cpus, f)
        shares_vs_threads(lines, seen, cpus, f)
        shares_vs_uring(lines, seen, f)
        nullcall(lines, seen, f)
        nullcall_idle(lines, seen, f)
        dupclose_kcore(lines, seen, cpus, f)
        shmupdate(lines, seen, f)
        mempass_ar(lines, seen, f)
        scaling_ar(lines, per_round, cpus, f)
        kernels(lines, cpus, f)
        lock_bounces(lines, cpus, f)
        skips(skipped, f)


def cpu_heads(cpus):
    return [f"{c} CPU" + ("s" if c > 1 else "") for c in cpus]


def write_table(f, head, rows):
    f.write("| " + " | ".join(head) + " |\n")
    f.write("|" + "---|" * len(head) + "\n")
    for cells in rows:
        f.write("| " + " | ".join(cells) + " |\n")


def ratio_rows(lines, cpus, keys, fmt_ratio):
    """Cells [label..., v/ref per CPU count] for (key, ref_key, label)."""
    rows = []
    for key, ref_key, label in keys:
        pts, ref = lines[key], lines.get(ref_key)
        if not ref:
            continue
        cells = list(label)
        for c in cpus:
            ok = c in pts and c in ref and ref[c][0] > 0
            cells.append(fmt_ratio(pts[c][0] / ref[c][0]) if ok else "-")
        rows.append(cells)
    return rows


def ratio_cell(per_round, overall):
    """The per-round ratios' median (min-max), else the overall one."""
    if per_round:
        return f"{median(per_round):.3f} ({min(per_round):.3f}-{max(per_round):.3f})"
    return f"{overall:.3f}" if overall is not None else "-"


def verdict(per_round, overall, ok):
    """Whether a goal is met: in how many rounds, or by the one value."""
    if per_round:
        return f"met in {sum(1 for r in per_round if ok(r))}/{len(per_round)} rounds"
    if overall is None:
        return "-"
    return "met" if ok(overall) else "not met"


def point(lines, key, c):
    pts = lines.get(key, {})
    return pts[c][0] if c in pts else None


def point_ratio(lines, seen, num, den, c):
    """(per-round ratios, ratio of medians) of two points (kernel, bench,
    mode, metric) at c CPUs; (None, None) if one is missing."""
    a, b = point(lines, num, c), point(lines, den, c)
    if a is None or b is None or b <= 0:
        return None, None
    per_round = None
    if num[0] == den[0]:  # rounds pair up only within one kernel's boots
        per_round = round_ratios(seen, num + (c,), den + (c,))
    return per_round, a / b


def mode_ratio(lines, seen, num, den, c):
    """point_ratio() of two dupclose ops_per_sec points (kernel, mode)."""
    return point_ratio(lines, seen, (num[0], "dupclose", num[1], "ops_per_sec"),
                       (den[0], "dupclose", den[1], "ops_per_sec"), c)


def value_cell(lines, key, c):
    """"value (spread)" of a point, "-" if it is missing."""
    pts = lines.get(key, {})
    if c not in pts:
        return "-"
    v, sp = pts[c]
    return f"{fmt(v)} ({sp:.0%})"


def nullcall(lines, seen, f):
    """Round trip of a no-op: syscall, io_uring SQ poll thread, kernel core."""
    modes = ("syscall", "uring", "kcore")
    rows = []
    for k, c in sorted({(key[0], c) for key, pts in lines.items()
                        if key[1] == "nullcall" and key[3] == "ns_per_op" for c in pts}):
        op = lambda m: (k, "nullcall", m, "ns_per_op")  # noqa: E731
        cells = [k, str(c)] + [value_cell(lines, op(m), c) for m in modes]
        for ref in ("uring", "syscall"):
            per_round, overall = point_ratio(lines, seen, op("kcore"), op(ref), c)
            cells.append(ratio_cell(per_round, overall))
        cells += [value_cell(lines, (k, "nullcall", m, "wake_ns"), c) for m in ("uring", "kcore")]
        rows.append(cells)
    if not rows:
        return
    f.write("\n## Null call round trip (nullcall)\n\n")
    f.write("Nanoseconds per round trip of a request that does nothing, back to "
            "back: `syscall` is getppid on the client's CPU, `uring` an "
            "IORING_OP_NOP through an SQ poll thread, `kcore` a "
            "COREY_KCORE_OP_NOP through a kernel core.  CPUs is what the run "
            "occupies: at 1 the server shares the client's CPU and the client "
            "sleeps while it waits; from 2 the server has a CPU of its own and "
            "the client spins.  Value (spread); the ratios are time through the "
            "kernel core / time of the other, within each round, median "
            "(min-max) over the rounds (below 1: the kernel core is faster).  "
            "The wake columns are a round trip that finds the server asleep "
            "after its idle time (1 ms there) and must wake it.  Under TCG only "
            "the ratios mean anything, and a client and server that both spin "
            "need two host CPUs at once: a busy host turns some round trips "
            "into host scheduling delays, which the spread shows.\n\n")
    write_table(f, ["kernel", "CPUs"] + [f"{m} ns" for m in modes]
                + ["kcore / uring", "kcore / syscall", "uring wake ns", "kcore wake ns"], rows)


def idle_goal(lines, seen, k, c):
    """The 0-ticks goal, judged in every round when rounds are known: a
    median of 0 would hide a round that ticked."""
    per_round = seen.get((k, "nullcall", "kcore-idle", "idle_ticks_per_s", c))
    if per_round:
        met = sum(1 for v in per_round if v == 0)
        if met == len(per_round):
            return "met"
        return f"not met ({len(per_round) - met}/{len(per_round)} rounds ticked)"
    idle = point(lines, (k, "nullcall", "kcore-idle", "idle_ticks_per_s"), c)
    return "-" if idle is None else "met" if idle == 0 else "not met"


def nullcall_idle(lines, seen, f):
    """The kernel core's own CPU use, spinning and idle (kcore-idle)."""
    rows = []
    for k, c in sorted({(key[0], c) for key, pts in lines.items()
                        if key[1] == "nullcall" and key[2] == "kcore-idle" for c in pts}):
        cells = [k, str(c)]
        cells += [value_cell(lines, (k, "nullcall", "kcore-idle", m), c) for m in NULLCALL_IDLE]
        cells.append(idle_goal(lines, seen, k, c))
        rows.append(cells)
    if not rows:
        return
    f.write("\n## Idle kernel core (nullcall kcore-idle)\n\n")
    f.write("The kernel core's CPU time per second of wall time: `busy` while it "
            "spins in the 200 ms after a request (the control: a spinning "
            "thread shows about 1 and 100 ticks/s), `idle` once /proc shows it "
            "asleep after its idle time.  CPU share is from the thread's "
            "CPU-time clock, ticks from utime + stime in "
            "/proc/PID/task/TID/stat.  Goal: no tick at all while idle, in "
            "every round.\n\n")
    write_table(f, ["kernel", "CPUs"] + NULLCALL_IDLE + ["goal (idle: 0 ticks)"], rows)


def dupclose_kcore(lines, seen, cpus, f):
    """dup/close through one kernel core against the other dupclose modes."""
    rows = []
    for k in sorted({key[0] for key in lines if key[1] == "dupclose"}):
        for mode in ("kcore", "kcore-batch"):
            if (k, "dupclose", mode, "ops_per_sec") not in lines:
                continue
            for ref in ("threads", "uring"):
                if (k, "dupclose", ref, "ops_per_sec") not in lines:
                    continue
                cells = [k, f"{mode} / {ref}"]
                for c in cpus:
                    per_round, overall = mode_ratio(lines, seen, (k, mode), (k, ref), c)
                    cells.append(ratio_cell(per_round, overall))
                rows.append(cells)
    if not rows:
        return
    f.write("\n## dup/close through a kernel core (dupclose)\n\n")
    f.write("dup+close pairs per second when every worker posts both calls to "
            "one kernel core / pairs per second of the same kernel's threads "
            "(each on the shared table) or io_uring (private direct "
            "descriptors), at the same worker count, within each round, median "
            "(min-max) over the rounds; above 1 the kernel core is faster.  The "
            "kernel core runs on the last CPU: its own while a CPU is free "
            "(fewer workers than CPUs), shared with the last worker, which then "
            "sleeps while it waits, at as many workers as CPUs.  Its scaling "
            "efficiency is in the first table.  kcore makes each call "
            "synchronously (two round trips per pair); kcore-batch keeps the "
            "ring full of dup3(fd, target) + close(target) pairs.\n\n")
    write_table(f, ["kernel", "ratio"] + cpu_heads(cpus), rows)


def shm_lines(metric):
    """The line count of a shmupdate metric, None for other metrics."""
    if not metric.startswith(SHM_METRIC) or not metric.endswith("lines"):
        return None
    n = metric[len(SHM_METRIC):-len("lines")]
    # ASCII digits only: "²".isdigit() is true but int() refuses it.
    return int(n) if n.isascii() and n.isdigit() else None


def shmupdate(lines, seen, f):
    """Barrelfish's shared-state updates: direct, pwrite64, kernel core."""
    modes = ("direct", "pwrite", "kcore")
    points = sorted({(key[0], shm_lines(key[3]), c) for key, pts in lines.items()
                     if key[1] == "shmupdate" and shm_lines(key[3]) for c in pts})
    rows = []
    for k, n, c in points:
        key = lambda m: (k, "shmupdate", m, f"{SHM_METRIC}{n}lines")  # noqa: E731
        cells = [k, str(n), str(c)] + [value_cell(lines, key(m), c) for m in modes]
        for ref in ("direct", "pwrite"):
            per_round, overall = point_ratio(lines, seen, key("kcore"), key(ref), c)
            cells.append(ratio_cell(per_round, overall))
        rows.append(cells)
    if not rows:
        return
    f.write("\n## Shared-state updates (shmupdate)\n\n")
    f.write("Nanoseconds one worker takes per update of L shared cache lines "
            "(Barrelfish, SOSP 2009, fig. 3): `direct` increments a counter in "
            "each line itself (atomics), `pwrite` writes the lines into a shared "
            "page with its own pwrite64, `kcore` posts that pwrite64 to one "
            "kernel core, the only CPU that writes the page.  Value (spread); the "
            "ratios are kcore's time / the other's within each round, median "
            "(min-max) over the rounds.  The kernel core runs only allowlisted "
            "system calls, so its update is a pwrite64, not an increment: "
            "`shmupdate --help` gives the model and its limits.\n\n")
    write_table(f, ["kernel", "lines", "workers"] + [f"{m} ns" for m in modes]
                + ["kcore / direct", "kcore / pwrite"], rows)


def zero_faults_goal(lines, seen, k, c):
    """mempass corey's "no worker faults", judged in every round when rounds
    are known: a median of 0 would hide a round where one worker faulted."""
    per_round = seen.get((k, "mempass", "corey", WORST_FAULTS, c))
    if per_round:
        bad = sum(1 for v in per_round if v != 0)
        if not bad:
            return "met"
        return f"not met ({bad}/{len(per_round)} rounds faulted)"
    worst = point(lines, (k, "mempass", "corey", WORST_FAULTS), c)
    return "-" if worst is None else "met" if worst == 0 else "not met"


def fmt_faults(lines, key, c):
    """A fault count per page to three decimals, as the README quotes them."""
    v = point(lines, key, c)
    return "-" if v is None else f"{v:.3f}"


def mempass_ar(lines, seen, f):
    """mempass with address ranges: faults per page per worker and time."""
    if not any(key[1] == "mempass" and key[2] in ("threads-shm", "corey") for key in lines):
        return
    rows = []
    for k, c in sorted({(key[0], c) for key, pts in lines.items()
                        if key[1] == "mempass" and key[2] in AR_MODES for c in pts}):
        sec = lambda m: (k, "mempass", m, "seconds")  # noqa: E731
        cells = [k, str(c)]
        cells += [fmt_faults(lines, (k, "mempass", m, "minflt_per_page"), c) for m in AR_MODES]
        cells.append(fmt_faults(lines, (k, "mempass", "corey", WORST_FAULTS), c))
        cells.append(zero_faults_goal(lines, seen, k, c))
        per_round, overall = point_ratio(lines, seen, sec("corey"), sec("threads-shm"), c)
        cells.append(ratio_cell(per_round, overall))
        cells.append(verdict(per_round, overall, lambda r: r <= AR_MEMPASS_TIME_GOAL))
        for num, den in (("processes", "threads"), ("threads-shm", "threads")):
            per_round, overall = point_ratio(lines, seen, sec(num), sec(den), c)
            cells.append(ratio_cell(per_round, overall))
        rows.append(cells)
    f.write("\n## Address ranges: mempass\n\n")
    f.write("One buffer passed from worker to worker, each write-touching every "
            "page (Corey fig. 7b).  Faults: minor faults per page per worker "
            "during the touches (median over the rounds); `corey worst` is the "
            "most one corey worker took in one repetition, and the goal is 0 in "
            "every round (stock processes take 1.000).  Times: corey's total time "
            "/ that of threads on the same kind of memory (`threads-shm`, a "
            "shmem memfd), and for reference processes / threads and threads-shm "
            "/ threads (anonymous memory), within each round, median (min-max) "
            f"over the rounds.  Goal: corey / threads-shm at most {AR_MEMPASS_TIME_GOAL} "
            "(stock processes / threads: 2.2-4.4x).\n\n")
    write_table(f, ["kernel", "CPUs"] + [f"{m} faults/page" for m in AR_MODES]
                + ["corey worst", "goal (0 faults)", "corey / threads-shm (time)",
                   f"goal (<= {AR_MEMPASS_TIME_GOAL})", "processes / threads",
                   "threads-shm / threads"], rows)


def efficiency_cell(lines, per_round, key, c):
    """(cell, per-round efficiencies, overall efficiency) of a line at c CPUs."""
    er = per_round.get(key, {}).get(c)
    pts = lines.get(key, {})
    overall = None
    if 1 in pts and c in pts:
        overall = efficiency(key[3], c, pts[1][0], pts[c][0])
    if er:
        return f"{median(er):.2f} ({min(er):.2f}-{max(er):.2f})", er, overall
    return (f"{overall:.2f}" if overall is not None else "-"), None, overall


def scaling_ar(lines, per_round, cpus, f):
    """memclone and pfchurn: every mode's scaling, corey's goal judged."""
    if not any(key[1] in dict(AR_SCALING) and key[2] in ("threads-shm", "corey")
               for key in lines):
        return
    rows = []
    for k in sorted({key[0] for key in lines}):
        for bench, metric in AR_SCALING:
            for mode in AR_MODES:
                key = (k, bench, mode, metric)
                if key not in lines:
                    continue
                cells = [k, bench, mode]
                cells += [efficiency_cell(lines, per_round, key, c)[0] for c in cpus if c > 1]
                goal = "-"
                if mode == "corey":
                    _, er, overall = efficiency_cell(lines, per_round, key, AR_EFFICIENCY_CPUS)
                    goal = verdict(er, overall, lambda e: e >= AR_EFFICIENCY_GOAL)
                cells.append(goal)
                rows.append(cells)
    if not rows:
        return
    f.write("\n## Address ranges: memclone and pfchurn scaling\n\n")
    f.write("Scaling efficiency (1.0 is perfect) of each mode: memclone, each "
            "worker write-faults its own 100 MiB (Corey fig. 7a, time per page); "
            "pfchurn, each worker maps, touches and unmaps 16 MiB in a loop "
            "(pages per second).  `threads` and `processes` use anonymous "
            "memory, `threads-shm` a shmem memfd per region, `corey` cfork'd "
            "processes with an address range of their own per region.  Within "
            "each round, median (min-max) over the rounds.  Goal for corey at "
            f"{AR_EFFICIENCY_CPUS} CPUs: at least {AR_EFFICIENCY_GOAL} (scales "
            "like processes).\n\n")
    write_table(f, ["kernel", "benchmark", "mode"] + [f"eff@{c}" for c in cpus if c > 1]
                + [f"goal at {AR_EFFICIENCY_CPUS} CPUs (>= {AR_EFFICIENCY_GOAL})"], rows)


def shares_vs_threads(lines, seen, cpus, f):
    """dupclose in a share (shares, corey-run) against threads on share 0."""
    with_shares = sorted({k for k, b, m, metric in lines
                          if b == "dupclose" and m in ("shares", "corey-run")})
    rows = []
    for k in with_shares:
        refs = [((k, "threads"), "threads")]
        if k != "stock" and ("stock", "dupclose", "threads", "ops_per_sec") in lines:
            refs.append((("stock", "threads"), "stock threads"))
        for mode in ("shares", "corey-run"):
            if (k, "dupclose", mode, "ops_per_sec") not in lines:
                continue
            for ref, ref_label in refs:
                cells = [k, f"{mode} / {ref_label}"]
                for c in cpus:
                    per_round, overall = mode_ratio(lines, seen, (k, mode), ref, c)
                    cells.append(ratio_cell(per_round, overall))
                per_round, overall = mode_ratio(lines, seen, (k, mode), ref, 1)
                cells.append(verdict(per_round, overall,
                                     lambda r: r >= SHARES_VS_THREADS_GOAL))
                rows.append(cells)
    if not rows:
        return
    f.write("\n## Shares against threads (dupclose)\n\n")
    f.write("dup+close pairs per second in a private share (`shares`: the "
            "benchmark sets it up; `corey-run`: the unmodified threads loop "
            "under corey-run) / pairs per second of threads on the process's "
            "table, at the same CPU count.  Against the same kernel's threads "
            "the ratio is taken within each round and given as the median "
            "(min-max) over the rounds; against stock threads it is the ratio "
            "of the overall medians, fair only with `BOOTS=n`.  Goal at 1 CPU: "
            f"at least {SHARES_VS_THREADS_GOAL:.2f} (within 3% of threads).\n\n")
    write_table(f, ["kernel", "ratio"] + cpu_heads(cpus)
                + [f"goal at 1 CPU (>= {SHARES_VS_THREADS_GOAL:.2f})"], rows)


def shares_vs_uring(lines, seen, f):
    """Time per dup+close on one CPU, shares against io_uring."""
    modes = ("threads", "uring", "shares", "corey-run")
    rows = []
    for k in sorted({key[0] for key in lines}):
        if (k, "dupclose", "shares", "ops_per_sec") not in lines:
            continue
        cells = [k]
        for m in modes:
            v = point(lines, (k, "dupclose", m, "ops_per_sec"), 1)
            cells.append(fmt(1e9 / v) if v else "-")
        # Time ratio shares / uring is the rate ratio uring / shares.
        per_round, overall = mode_ratio(lines, seen, (k, "uring"), (k, "shares"), 1)
        cells.append(ratio_cell(per_round, overall))
        cells.append(verdict(per_round, overall, lambda r: r <= SHARES_VS_URING_GOAL))
        rows.append(cells)
    if not rows:
        return
    f.write("\n## Shares against io_uring, 1 CPU, per op (dupclose)\n\n")
    f.write("Nanoseconds per dup+close on one CPU (10^9 / ops_per_sec at 1 CPU; "
            "under TCG only the ratios mean anything).  `uring` is a private "
            "io_uring direct-descriptor table, the peer a user would pick "
            "today.  The ratio is time in a share / time with io_uring, "
            "within each round, median (min-max) over the rounds.  Goal: at "
            f"most {SHARES_VS_URING_GOAL:.2f} (no slower than io_uring).\n\n")
    write_table(f, ["kernel"] + [f"{m} ns/op" for m in modes]
                + ["shares / uring (time)", f"goal (<= {SHARES_VS_URING_GOAL:.2f})"], rows)


def fmt_bounces(v):
    if v == 0:
        return "0"
    return f"{v:.4f}" if v >= 0.00005 else "<0.0001"


def lock_bounces(lines, cpus, f):
    """Lock bounces per dup+close, per kernel and mode (LOCKSTAT=1)."""
    rows, hidden = [], 0
    for key in sorted(lines, key=lambda k: (k[0], k[1], k[2], k[3] != FILE_LOCK_BOUNCES,
                                            -max(v for v, _ in lines[k].values()), k[3])):
        k, b, m, metric = key
        if not is_lock_metric(metric):
            continue
        pts = lines[key]
        if metric == FILE_LOCK_BOUNCES:
            name = "file_lock, all tables"
        elif max(v for v, _ in pts.values()) >= BOUNCES_LISTED:
            name = f"`{metric[len(CLASS_BOUNCES):]}`"
        else:
            hidden += 1
            continue
        # lock_stat lists a class that did not bounce with 0, or not at all:
        # where the run happened, a class missing from it bounced 0 times.
        ran = lines.get((k, b, m, FILE_LOCK_BOUNCES), {})
        rows.append([k, b, m, name] + [fmt_bounces(pts[c][0]) if c in pts else
                                        "0" if c in ran else "-" for c in cpus])
    if not rows:
        return
    f.write("\n## Lock bounces per operation (lock_stat)\n\n")
    f.write("Acquisitions of a lock that found it last taken on another CPU "
            "(lock_stat's acq-bounces), per dup+close pair of the whole run, "
            "from one run under lock_stat: a count that does not depend on the "
            "machine.  lock_stat decides a bounce per lock instance and sums per "
            "class, so the private shares' tables, instances of the same "
            "`&newf->file_lock` class as the process's, still give a real "
            "figure: 0 means no table was taken by two CPUs.  First the sum over "
            "the file_lock classes, then each class with at least "
            f"{BOUNCES_LISTED} bounces per op at some CPU count")
    f.write(f"; {hidden} other class{'es' if hidden != 1 else ''} bounced less "
            "(results.csv has them all).\n\n" if hidden else ".\n\n")
    write_table(f, ["kernel", "benchmark", "mode", "lock class"] + cpu_heads(cpus), rows)


def skips(skipped, f):
    if not skipped:
        return
    f.write("\n## Skipped\n\n")
    f.write("Modes the kernel lacks a feature for (exit status 4): not run, "
            "not failed.\n\n")
    write_table(f, SKIP_HEADER, [list(r) for r in sorted(set(skipped))])


def kernels(lines, cpus, f):
    """Each corey point against the same stock point (medians over all
    rounds of all boots; make bench BOOTS=n alternates the two kernels)."""
    keys = [(key, ("stock",) + key[1:], key) for key in sorted(lines)
            if key[0] != "stock" and base_metric(key[3]) in
            THROUGHPUT | TIME_PER_WORKER | TIME_SERIAL | TIME_PER_OP]
    rows = ratio_rows(lines, cpus, keys, lambda r: f"{r:.3f}")
    if not rows:
        return
    f.write("\n## Against stock\n\n")
    f.write("Value on this kernel / value on stock, same benchmark, mode and CPU "
            "count.  Only boots alternated with `BOOTS=n` make this a fair "
            "comparison: one boot of each can differ by more than the effect.  "
            "The modes that do not use Corey's features (dupclose threads, "
            "processes and uring among them) show what the series costs code "
            "that ignores it.\n\n")
    write_table(f, ["kernel", "benchmark", "mode", "metric"] + cpu_heads(cpus), rows)


def ratios(lines, cpus, f):
    """Time metrics of processes against threads, point by point."""
    keys = [(key, (key[0], key[1], "threads", key[3]), (key[0], key[1], key[3]))
            for key in sorted(lines)
            if key[2] == "processes" and base_metric(key[3]) in TIME_PER_WORKER | TIME_SERIAL]
    rows = ratio_rows(lines, cpus, keys, lambda r: f"{r:.2f}x")
    if not rows:
        return
    f.write("\n## Processes against threads\n\n")
    f.write("Time with processes / time with threads at the same CPU count.\n\n")
    write_table(f, ["kernel", "benchmark", "metric"] + cpu_heads(cpus), rows)


def plots(rows, outdir):
    by_bench = defaultdict(lambda: defaultdict(dict))
    for k, b, m, c, metric, v, s in rows:
        if metric.startswith(CLASS_BOUNCES):  # a table's worth, not a plot's
            continue
        by_bench[b][metric].setdefault(f"{k} {m}", []).append((c, v, s))
    datadir = os.path.join(outdir, "plotdata")
    os.makedirs(datadir, exist_ok=True)
    for bench, metrics in sorted(by_bench.items()):
        names = sorted(metrics)
        script = [
            f"set terminal pngcairo size {560 * len(names)},420 font ',10'",
            f"set output '{os.path.join(outdir, bench + '.png')}'",
            f"set multiplot layout 1,{len(names)} title '{bench}'",
            "set key top left box opaque",
            "set xlabel 'CPUs'",
            "set grid",
            "set xtics 1",
            "set yrange [0:*]",
            "set termoption noenhanced",
            "set format y '%.1s%c'",
            "set offsets 0, 0, graph 0.2, 0",
        ]
        for metric in names:
            series = metrics[metric]
            plot = []
            for label in sorted(series):
                data = os.path.join(datadir, f"{bench}-{metric}-{label.replace(' ', '-')}.dat")
                with open(data, "w") as d:
                    for c, v, s in sorted(series[label]):
                        # Error bars span the measured spread around the median.
                        d.write(f"{c} {v} {v * (1 - s / 2)} {v * (1 + s / 2)}\n")
                plot.append(f"'{data}' using 1:2:3:4 with yerrorlines title '{label}'")
            script.append(f"set ylabel '{metric}'")
            script.append("plot " + ", ".join(plot))
        script.append("unset multiplot")
        subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)


def fig7_series(rows):
    """(prefix, kernel) -> [(title, [(cpus, value, spread)])] for figure 7:
    threads, processes and corey of each kernel that ran corey."""
    figs = {}
    for prefix, bench, metric, _ in FIG7:
        pts = defaultdict(list)
        for k, b, m, c, met, v, s in rows:
            if b == bench and met == metric:
                pts[(k, m)].append((c, v, s))
        for k in sorted({k for k, m in pts if m == "corey"}):
            figs[(prefix, k)] = [(title, sorted(pts[(k, m)]))
                                 for m, title in FIG7_LINES if (k, m) in pts]
    return figs


def fig7_plots(rows, outdir):
    """fig7a-KERNEL.png and fig7b-KERNEL.png, the paper's figure 7 redrawn."""
    ylabels = {prefix: (bench, ylabel) for prefix, bench, _, ylabel in FIG7}
    datadir = os.path.join(outdir, "plotdata")
    os.makedirs(datadir, exist_ok=True)
    for (prefix, k), series in sorted(fig7_series(rows).items()):
        bench, ylabel = ylabels[prefix]
        script = [
            "set terminal pngcairo size 640,480 font ',10'",
            f"set output '{os.path.join(outdir, f'{prefix}-{k}.png')}'",
            f"set title 'Corey figure 7{prefix[-1]}: {bench}, kernel {k}'",
            "set key top left box opaque",
            "set xlabel 'CPUs'",
            f"set ylabel '{ylabel}'",
            "set grid",
            "set xtics 1",
            "set yrange [0:*]",
            "set termoption noenhanced",
            "set offsets 0, 0, graph 0.2, 0",
        ]
        plot = []
        for i, (title, pts) in enumerate(series):
            data = os.path.join(datadir, f"{prefix}-{k}-{i}.dat")
            with open(data, "w") as d:
                for c, v, s in pts:
                    d.write(f"{c} {v} {v * (1 - s / 2)} {v * (1 + s / 2)}\n")
            plot.append(f"'{data}' using 1:2:3:4 with yerrorlines title '{title}'")
        script.append("plot " + ", ".join(plot))
        subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)


def aggregate(src, dst):
    points = defaultdict(list)
    for k, b, m, c, metric, v, s in load(src):
        points[(k, b, m, c, metric)].append((v, s))
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for key, vals in points.items():
            values = sorted(v for v, _ in vals)
            n = len(values)
            med = median(values)
            if n == 1:
                spread = vals[0][1]
            elif med > 0:
                spread = (values[-1] - values[0]) / med
            else:
                spread = 0.0 if values[-1] == values[0] else float("nan")
            w.writerow(list(key) + [f"{med:.10g}", f"{spread:.4f}"])


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--aggregate":
        aggregate(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS_DIR | report.py --aggregate ROUNDS_CSV RESULTS_CSV")
    outdir = sys.argv[1]
    rows = load(os.path.join(outdir, "results.csv"))
    if not rows:
        sys.exit(f"report: {outdir}/results.csv has no results")
    rounds_csv = os.path.join(outdir, "rounds.csv")
    rounds = load(rounds_csv) if os.path.exists(rounds_csv) else None
    skipped_csv = os.path.join(outdir, "skipped.csv")
    skipped = load_skipped(skipped_csv) if os.path.exists(skipped_csv) else None
    summary(rows, os.path.join(outdir, "summary.md"), rounds, skipped)
    plots(rows, outdir)
    fig7_plots(rows, outdir)


if __name__ == "__main__":
    main()
