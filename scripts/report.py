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
phases over a run, which a ratio of two overall medians would mix in.
"""
import csv
import os
import subprocess
import sys
from collections import defaultdict

THROUGHPUT = {"ops_per_sec", "pages_per_sec"}
TIME_PER_WORKER = {"ns_per_page"}
TIME_SERIAL = {"seconds"}
HEADER = ["kernel", "benchmark", "mode", "cpus", "metric", "value", "spread"]


def efficiency(metric, n, v1, vn):
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


def round_efficiencies(rounds):
    """(kernel, bench, mode, metric) -> cpus -> [efficiency in round r]."""
    seen = defaultdict(list)  # (k, b, m, metric, cpus) -> values in round order
    for k, b, m, c, metric, v, s in rounds:
        seen[(k, b, m, metric, c)].append(v)
    effs = defaultdict(dict)
    for (k, b, m, metric, c), vals in seen.items():
        ones = seen.get((k, b, m, metric, 1))
        if c == 1 or not ones or len(ones) != len(vals):
            continue
        e = [efficiency(metric, c, v1, vn) for v1, vn in zip(ones, vals)]
        if all(x is not None for x in e):
            effs[(k, b, m, metric)][c] = e
    return effs


def summary(rows, out, rounds=None):
    lines = defaultdict(dict)  # (kernel, bench, mode, metric) -> cpus -> (v, s)
    for k, b, m, c, metric, v, s in rows:
        lines[(k, b, m, metric)][c] = (v, s)
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
        kernels(lines, cpus, f)


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


def kernels(lines, cpus, f):
    """Each corey point against the same stock point (medians over all
    rounds of all boots; make bench BOOTS=n alternates the two kernels)."""
    keys = [(key, ("stock",) + key[1:], key) for key in sorted(lines)
            if key[0] != "stock" and key[3] in THROUGHPUT | TIME_PER_WORKER | TIME_SERIAL]
    rows = ratio_rows(lines, cpus, keys, lambda r: f"{r:.3f}")
    if not rows:
        return
    f.write("\n## Against stock\n\n")
    f.write("Value on this kernel / value on stock, same benchmark, mode and CPU "
            "count.  Only boots alternated with `BOOTS=n` make this a fair "
            "comparison: one boot of each can differ by more than the effect.\n\n")
    write_table(f, ["kernel", "benchmark", "mode", "metric"] + cpu_heads(cpus), rows)


def ratios(lines, cpus, f):
    """Time metrics of processes against threads, point by point."""
    keys = [(key, (key[0], key[1], "threads", key[3]), (key[0], key[1], key[3]))
            for key in sorted(lines)
            if key[2] == "processes" and key[3] in TIME_PER_WORKER | TIME_SERIAL]
    rows = ratio_rows(lines, cpus, keys, lambda r: f"{r:.2f}x")
    if not rows:
        return
    f.write("\n## Processes against threads\n\n")
    f.write("Time with processes / time with threads at the same CPU count.\n\n")
    write_table(f, ["kernel", "benchmark", "metric"] + cpu_heads(cpus), rows)


def plots(rows, outdir):
    by_bench = defaultdict(lambda: defaultdict(dict))
    for k, b, m, c, metric, v, s in rows:
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
    summary(rows, os.path.join(outdir, "summary.md"), rounds)
    plots(rows, outdir)


if __name__ == "__main__":
    main()
