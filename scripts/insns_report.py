#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""insns_report.py DIR: insns.csv, functions.csv and summary.md from the
logs of a `make insns` run (docs/insns.md).

DIR holds, for each kernel K:
  K.guest.log      opcount's output: "insns-batch: ROUND,OP,OPS" after each
                   bracket of OPS operations, "insns-skip: OP,REASON" once
                   for an OP the kernel lacks (it then runs no bracket)
  K.insncount.log  the insncount plugin's log: "insncount: mark M user U
                   kernel K locked-user LU locked-kernel LK" at each marker
                   (counters since boot, M from 0), each mark followed,
                   with a profile, by "insncount: block 0xADDR insns I"
                   lines (the blocks that retired at least MIN instructions
                   since the previous mark; one address can repeat, once
                   per translation of the block: they add up)
  K.System.map     the kernel's symbols, to name the profiled blocks
and params.txt (KEY=VALUE lines from insns.sh) for the command that
reproduces the run.

Pairing: the k-th insns-batch line of a guest log (from 0) is the bracket
between marks 2k and 2k+1, and the blocks listed after mark 2k+1 are what
ran in it; those after an even mark ran between brackets and are ignored.
A log with other than two marks per batch is refused.

Per batch and operation: kernel, user and total (kernel + user)
instructions, and locked ones (user + kernel).  Over the rounds: median,
min and max.  Ratios are ratios of medians.  A function's count per
operation in a round is the sum of its profiled blocks' instructions (a
block goes to the text symbol at or before its start address; user blocks
to <user>) over the operations; a function absent from a round's profile
counts 0 there.
"""
import bisect
import csv
import os
import re
import statistics
import sys
from collections import OrderedDict, defaultdict, namedtuple

METRICS = ("kernel", "user", "total", "locked")
TOP_FUNCTIONS = 25
MIN_DIFF = 0.5
USER = "<user>"
UNDER = "(blocks under the profile threshold)"
# x86-64 module space (MODULES_VADDR to MODULES_END).
MODULES = (0xffffffffa0000000, 0xffffffffff000000)

BATCH_RE = re.compile(r"^insns-batch: (\d+),([^,\s]+),(\d+)$")
SKIP_RE = re.compile(r"^insns-skip: ([^,\s]+),(.*)$")
MARK_RE = re.compile(r"^insncount: mark (\d+) user (\d+) kernel (\d+) "
                     r"locked-user (\d+) locked-kernel (\d+)$")
BLOCK_RE = re.compile(r"^insncount: block 0x([0-9a-fA-F]+) insns (\d+)$")
EXIT_RE = re.compile(r"^insncount: exit after (\d+) marks$")

# One bracket: its counters (differences between its two marks) and, with
# a profile, {block address: instructions}.
Batch = namedtuple("Batch", "round op ops user kernel locked_user "
                            "locked_kernel blocks")


class InsnsError(Exception):
    pass


def parse_guest(path):
    """[(round, op, ops)] in output order, and {op: reason} of skips."""
    batches, skips = [], OrderedDict()
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n").rstrip("\r")
            m = BATCH_RE.match(line)
            if m:
                ops = int(m.group(3))
                if ops == 0:
                    raise InsnsError(f"{path}: a batch of 0 operations: {line}")
                batches.append((int(m.group(1)), m.group(2), ops))
                continue
            m = SKIP_RE.match(line)
            if m:
                skips.setdefault(m.group(1), m.group(2))
    return batches, skips


def parse_insncount(path):
    """The marks' counters [(user, kernel, locked_user, locked_kernel)],
    indexed by mark number, and for each mark the blocks listed after it
    ({address: instructions}, duplicates summed)."""
    marks, blocks, exits = [], [], None
    with open(path, errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            m = MARK_RE.match(line)
            if m:
                n = int(m.group(1))
                if n != len(marks):
                    raise InsnsError(
                        f"{path}:{lineno}: mark {n} where mark {len(marks)} "
                        "was expected (log truncated, or from two runs?)")
                marks.append(tuple(int(m.group(i)) for i in range(2, 6)))
                blocks.append(defaultdict(int))
                continue
            m = BLOCK_RE.match(line)
            if m:
                if not marks:
                    raise InsnsError(f"{path}:{lineno}: block line before any mark")
                blocks[-1][int(m.group(1), 16)] += int(m.group(2))
                continue
            m = EXIT_RE.match(line)
            if m:
                exits = int(m.group(1))
    if exits is not None and exits != len(marks):
        raise InsnsError(f"{path}: the plugin counted {exits} marks at exit "
                         f"but the log has {len(marks)} (log truncated?)")
    return marks, blocks


def pair(label, batches, marks, blocks):
    """One Batch per guest batch line: the k-th between marks 2k and 2k+1."""
    if len(marks) != 2 * len(batches):
        raise InsnsError(
            f"{label}: {len(marks)} marks in the plugin log for "
            f"{len(batches)} batches in the guest output: expected "
            f"{2 * len(batches)} (two per batch); was the guest running "
            "something else that executes the marker?")
    out = []
    for k, (rnd, op, ops) in enumerate(batches):
        start, end = marks[2 * k], marks[2 * k + 1]
        d = [e - s for s, e in zip(start, end)]
        if min(d) < 0:
            raise InsnsError(f"{label}: counters go backwards between marks "
                             f"{2 * k} and {2 * k + 1}")
        prof = blocks[2 * k + 1]
        out.append(Batch(rnd, op, ops, d[0], d[1], d[2], d[3],
                         dict(prof) if prof else None))
    return out


def per_op(b):
    """A batch's metrics per operation."""
    return {"kernel": b.kernel / b.ops, "user": b.user / b.ops,
            "total": (b.kernel + b.user) / b.ops,
            "locked": (b.locked_user + b.locked_kernel) / b.ops}


def stats(values):
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


class Symbols:
    """Text symbols (t, T, w, W) of a System.map, by address."""

    def __init__(self, path):
        syms = []
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] in ("t", "T", "w", "W"):
                    syms.append((int(parts[0], 16), parts[2]))
        if not syms:
            raise InsnsError(f"{path}: no text symbols")
        syms.sort(key=lambda s: s[0])  # stable: the first alias wins
        self.addrs, self.names = [], []
        for a, n in syms:
            if self.addrs and self.addrs[-1] == a:
                continue
            self.addrs.append(a)
            self.names.append(n)

    def name(self, addr):
        if addr < 1 << 63:
            return USER
        if MODULES[0] <= addr < MODULES[1]:
            return "<module>"
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            return f"<kernel {addr:#x}>"
        return self.names[i]


def functions(batch, symbols):
    """{function: instructions per operation} of a profiled batch, with
    what the profile did not list as UNDER."""
    out = defaultdict(float)
    listed = 0
    for addr, insns in batch.blocks.items():
        out[symbols.name(addr)] += insns
        listed += insns
    out[UNDER] = batch.kernel + batch.user - listed
    return {f: v / batch.ops for f, v in out.items()}


class Kernel:
    """One kernel's batches, skips and (with a profile) functions."""

    def __init__(self, d, name):
        self.name = name
        guest = os.path.join(d, f"{name}.guest.log")
        plugin = os.path.join(d, f"{name}.insncount.log")
        for p in (guest, plugin):
            if not os.path.exists(p):
                raise InsnsError(f"{p} missing")
        batches, self.skips = parse_guest(guest)
        marks, blocks = parse_insncount(plugin)
        self.batches = pair(name, batches, marks, blocks)
        self.ops = list(OrderedDict.fromkeys(b.op for b in self.batches))
        self.profiled = any(b.blocks for b in self.batches)
        self.symbols = None
        if self.profiled:
            smap = os.path.join(d, f"{name}.System.map")
            if not os.path.exists(smap):
                raise InsnsError(f"{smap} missing: cannot name the profile's blocks")
            self.symbols = Symbols(smap)

    def of(self, op):
        return [b for b in self.batches if b.op == op]

    def metric(self, op, metric):
        """(median, min, max) of a metric per operation, None if op did not run."""
        bs = self.of(op)
        return stats([per_op(b)[metric] for b in bs]) if bs else None

    def median(self, op, metric):
        s = self.metric(op, metric)
        return s[0] if s else None

    def function_rounds(self, op):
        """{function: [per-op count in each round]}, absent = 0."""
        rounds = [functions(b, self.symbols) for b in self.of(op) if b.blocks]
        names = set().union(*rounds) if rounds else set()
        return {f: [r.get(f, 0.0) for r in rounds] for f in names}

    def function_medians(self, op):
        return {f: statistics.median(v)
                for f, v in self.function_rounds(op).items()}


def read_params(d):
    params = OrderedDict()
    path = os.path.join(d, "params.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep:
                    params[key] = value
    return params


def kernel_names(d, params):
    found = sorted(f[:-len(".guest.log")] for f in os.listdir(d)
                   if f.endswith(".guest.log"))
    order = params.get("KERNELS", "").split() or \
        [k for k in ("stock", "corey") if k in found] + \
        [k for k in found if k not in ("stock", "corey")]
    if not order:
        raise InsnsError(f"{d}: no KERNEL.guest.log")
    return order


def fmt(x):
    return "" if x is None else f"{x:.1f}"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return ""
    return f"{a / b:.3f}"


def fmt_diff(a, b):
    if a is None or b is None:
        return ""
    d = f"{a - b:+.1f}"
    return "0.0" if d in ("+0.0", "-0.0") else d


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def command(params):
    keys = ("KERNELS", "OPS", "N", "ROUNDS", "PROFILE")
    env = " ".join(f"{k}=\"{params[k]}\"" if " " in params[k] else f"{k}={params[k]}"
                   for k in keys if k in params)
    return f"{env} make insns" if env else "make insns"


def write_csv(d, kernels, ops):
    with open(os.path.join(d, "insns.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kernel", "op", "metric", "median", "min", "max"])
        for k in kernels:
            for op in ops:
                for m in METRICS:
                    s = k.metric(op, m)
                    if s:
                        w.writerow([k.name, op, f"{m}_per_op"] + [fmt(x) for x in s])
    if not any(k.profiled for k in kernels):
        return
    with open(os.path.join(d, "functions.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kernel", "op", "function", "median", "min", "max"])
        for k in kernels:
            if not k.profiled:
                continue
            for op in ops:
                fr = k.function_rounds(op)
                for fn in sorted(fr, key=lambda x: (-statistics.median(fr[x]), x)):
                    w.writerow([k.name, op, fn] + [fmt(x) for x in stats(fr[fn])])


def ops_table(kernels, ops):
    byname = {k.name: k for k in kernels}
    stock, corey = byname.get("stock"), byname.get("corey")
    header = ["op"] + [f"{k.name} total/op" for k in kernels]
    if stock and corey:
        header.append("corey/stock")
    header += [f"{k.name} locked/op" for k in kernels]
    rows = []
    for op in ops:
        row = [op] + [fmt(k.median(op, "total")) or skipped(k, op) for k in kernels]
        if stock and corey:
            row.append(fmt_ratio(corey.median(op, "total"), stock.median(op, "total")))
        row += [fmt(k.median(op, "locked")) or skipped(k, op) for k in kernels]
        rows.append(row)
    return table(header, rows)


def skipped(k, op):
    return "skipped" if op in k.skips else "-"


def detail_table(kernels, ops):
    rows = []
    for k in kernels:
        for op in ops:
            s = {m: k.metric(op, m) for m in METRICS}
            if not s["total"]:
                continue
            t = s["total"]
            rows.append([k.name, op, fmt(s["kernel"][0]), fmt(s["user"][0]),
                         f"{fmt(t[0])} ({fmt(t[1])}-{fmt(t[2])})",
                         fmt(s["locked"][0]), str(len(k.of(op)))])
    return table(["kernel", "op", "kernel/op", "user/op",
                  "total/op (min-max)", "locked/op", "rounds"], rows)


def shares_table(byname):
    corey, stock = byname.get("corey"), byname.get("stock")
    if not corey or not corey.of("dupclose-share"):
        return ["dupclose-share did not run on corey: no comparison.", ""]
    share_t = corey.median("dupclose-share", "total")
    share_l = corey.median("dupclose-share", "locked")
    rows = [["dupclose-share", "corey", fmt(share_t), fmt(share_l), "1.000", "", ""]]
    for k in (corey, stock):
        if not k or not k.of("dupclose"):
            continue
        t, lk = k.median("dupclose", "total"), k.median("dupclose", "locked")
        rows.append(["dupclose", k.name, fmt(t), fmt(lk), fmt_ratio(share_t, t),
                     fmt_diff(share_t, t), fmt_diff(share_l, lk)])
    if len(rows) == 1:
        return ["dupclose did not run: no comparison.", ""]
    return table(["op", "kernel", "total/op", "locked/op",
                  "dupclose-share (corey) / this, total",
                  "dupclose-share (corey) - this, total",
                  "dupclose-share (corey) - this, locked"], rows)


def top_table(k, op):
    fr = k.function_rounds(op)
    if not fr:
        return []
    med = {f: statistics.median(v) for f, v in fr.items()}
    total = k.median(op, "total")
    named = sorted((f for f in med if f != UNDER), key=lambda f: (-med[f], f))
    # A function that ran in some rounds only can have a median of 0.
    top = [f for f in named[:TOP_FUNCTIONS] if med[f] >= 0.05]
    rest = [f for f in named if f not in top]
    rows = []
    for f in top:
        v = fr[f]
        rows.append([f"`{f}`", fmt(med[f]), f"{fmt(min(v))}-{fmt(max(v))}",
                     f"{100 * med[f] / total:.1f}%" if total else ""])
    nrounds = len(fr[UNDER])
    if rest:
        others = statistics.median(sum(fr[f][i] for f in rest) for i in range(nrounds))
        rows.append([f"({len(rest)} other function{'s' if len(rest) > 1 else ''})",
                     fmt(others), "",
                     f"{100 * others / total:.1f}%" if total else ""])
    rows.append([UNDER, fmt(med[UNDER]), "",
                 f"{100 * med[UNDER] / total:.1f}%" if total else ""])
    rows.append(["total", fmt(total), "", "100.0%"])
    return ([f"### {k.name}: {op}", ""] +
            table(["function", "insns/op", "min-max", "share"], rows))


def diff_table(title, a, op_a, b, op_b, la, lb):
    ma, mb = a.function_medians(op_a), b.function_medians(op_b)
    if not ma or not mb:
        return []
    names = set(ma) | set(mb)
    diffs = [(f, ma.get(f, 0.0), mb.get(f, 0.0)) for f in names]
    diffs = [d for d in diffs if abs(d[1] - d[2]) >= MIN_DIFF]
    diffs.sort(key=lambda d: (-abs(d[1] - d[2]), d[0]))
    rows = [[f if f == UNDER else f"`{f}`", fmt(x), fmt(y), fmt_diff(x, y)]
            for f, x, y in diffs]
    ta, tb = a.median(op_a, "total"), b.median(op_b, "total")
    rows.append(["total", fmt(ta), fmt(tb), fmt_diff(ta, tb)])
    out = [f"### {title}", ""]
    if len(diffs) == 0:
        out += [f"No function differs by {MIN_DIFF} instructions per op or more.", ""]
    return out + table(["function", la, lb, "difference"], rows)


def where(d):
    """DIR as the reader would type it: relative to the checkout if inside."""
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    d = os.path.abspath(d)
    return os.path.relpath(d, top) if d.startswith(top + os.sep) else d


def write_summary(d, kernels, ops, params):
    byname = {k.name: k for k in kernels}
    n, rounds = params.get("N", "?"), params.get("ROUNDS", "?")
    profile_min = params.get("PROFILE_MIN")
    out = ["# Instructions per operation", "",
           f"Each operation ran N={n} times per bracket, {rounds} rounds "
           "interleaved, on one vCPU under QEMU TCG with the insncount "
           "plugin (docs/insns.md).  Figures are guest instructions per "
           "operation, median over the rounds; ratios are ratios of "
           "medians.  total = kernel + user; locked = LOCK-prefixed "
           "instructions and XCHG with memory, user + kernel.", "",
           "Reproduce with:", "",
           f"    {command(params)}", "",
           f"and redraw this report from the logs here with "
           f"`scripts/insns_report.py {where(d)}`.", ""]
    ident = [f"checkout {params['commit']}"] if "commit" in params else []
    for k in kernels:
        if f"tree.{k.name}" in params:
            ident.append(f"{k.name} kernel tree {params[f'tree.{k.name}']} "
                         f"({params.get(f'release.{k.name}', '?')})")
    if ident:
        out += ["Built from: " + "; ".join(ident) + ".", ""]
    for k in kernels:
        if params.get(f"cmdline.{k.name}"):
            out += [f"{k.name} booted with: `{params[f'cmdline.{k.name}'].strip()}`", ""]
    out += ["## Per operation", ""] + ops_table(kernels, ops)
    out += ["## Per kernel and operation", ""] + detail_table(kernels, ops)
    out += ["## Descriptor shares: dup+close", "",
            "dupclose-share is dup() and close() in a private descriptor "
            "share on corey; dupclose the same in share 0 (the process "
            "table).", ""] + shares_table(byname)
    skips = [(k.name, op, why) for k in kernels for op, why in k.skips.items()]
    if skips:
        out += ["## Skipped", ""]
        out += [f"- {k}: {op} ({why})" for k, op, why in skips] + [""]
    out += ["## Caveats", "",
            "- Instruction counts are exact and the same on any host, but they "
            "are a proxy for time: they do not see cache misses, or what an "
            "atomic costs (hence the locked column).",
            "- A bracket counts everything the one vCPU ran in it: timer "
            "interrupts, softirqs, other tasks.  Hence N operations per "
            "bracket and medians over rounds.",
            "- One vCPU, booted with noreplace-smp so that the kernel keeps "
            "its LOCK prefixes (the SMP code every real machine runs), and "
            "norandmaps: without ASLR a mapping lands at the same place in "
            "every boot (where it falls against page tables other mappings "
            "filled changes how much munmap walks).",
            "- TCG counts a REP-prefixed string instruction once per "
            "iteration (clear_page_erms: one per byte of the page).",
            ""]
    if any(k.profiled for k in kernels):
        out += profile_sections(kernels, ops, byname, profile_min)
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write("\n".join(out))


def profile_sections(kernels, ops, byname, profile_min):
    out = ["## Where the instructions go", "",
           "From the plugin's block profile: the blocks that retired at "
           + (f"least {profile_min} instructions " if profile_min else
              "least the profile threshold ")
           + "in a bracket, each attributed to the text symbol at or before "
           "its start address (inlined code counts in its caller); user "
           f"blocks are {USER}.  A function's figure is the median over the "
           "rounds of its instructions per operation.", ""]
    for k in kernels:
        if not k.profiled:
            continue
        for op in ops:
            out += top_table(k, op)
    out += ["## Differences by function", "",
            f"Functions whose instructions per operation differ by "
            f"{MIN_DIFF} or more (medians), largest first.", ""]
    corey, stock = byname.get("corey"), byname.get("stock")
    if corey and corey.profiled and corey.of("dupclose-share") and corey.of("dupclose"):
        out += diff_table("corey: dupclose-share against dupclose", corey,
                          "dupclose-share", corey, "dupclose",
                          "dupclose-share", "dupclose")
    if corey and stock and corey.profiled and stock.profiled:
        for op in ops:
            if corey.of(op) and stock.of(op):
                out += diff_table(f"{op}: corey against stock", corey, op,
                                  stock, op, "corey", "stock")
    return out


def report(d):
    params = read_params(d)
    kernels = [Kernel(d, k) for k in kernel_names(d, params)]
    ops = list(OrderedDict.fromkeys(
        params.get("OPS", "").split() +
        [op for k in kernels for op in k.ops] +
        [op for k in kernels for op in k.skips]))
    if not any(k.batches for k in kernels):
        raise InsnsError(f"{d}: no batch ran on any kernel")
    write_csv(d, kernels, ops)
    write_summary(d, kernels, ops, params)


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.exit("usage: insns_report.py RESULTS_DIR")
    try:
        report(argv[1])
    except (InsnsError, OSError) as e:
        sys.exit(f"insns_report.py: error: {e}")


if __name__ == "__main__":
    main(sys.argv)
