#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""insns_report.py DIR: insns.csv, functions.csv and summary.md from the
logs of a `make insns` run (docs/insns.md).

DIR holds, for each kernel K:
  K.guest.log      opcount's output: "insns-batch: ROUND,OP,OPS" after each
                   bracket of OPS operations, "insns-skip: OP,REASON" once
                   for an OP the kernel lacks (it then runs no bracket),
                   and from insns.sh "insns-module: NAME SECTION 0xADDR"
                   for each text section of a module loaded before opcount
  K.insncount.log  the insncount plugin's log: "insncount: mark M user U
                   kernel K locked-user LU locked-kernel LK" at each marker
                   (counters since boot, M from 0), each mark followed,
                   with a profile, by "insncount: block 0xADDR insns I"
                   lines (the blocks that retired at least MIN instructions
                   since the previous mark; one address can repeat, once
                   per translation of the block: they add up).  With
                   several vCPUs, each mark is one line per vCPU, "mark M
                   vcpu V user ...", V from 0 up in order, and block lines
                   read "block 0xADDR vcpu V insns I"
  K.System.map     the kernel's symbols, to name the profiled blocks
  K.NAME.nm        `nm -f sysv` of module NAME's .ko, for the blocks in
                   the text the guest printed
and params.txt (KEY=VALUE lines from insns.sh) for the command that
reproduces the run.

Pairing: the k-th insns-batch line of a guest log (from 0) is the bracket
between marks 2k and 2k+1, and the blocks listed after mark 2k+1 are what
ran in it; those after an even mark ran between brackets and are ignored.
A log with other than two marks per batch, or with a mark that lacks a
vCPU's line, is refused.

Per batch, operation and vCPU: kernel, user and total (kernel + user)
instructions, and locked ones (user + kernel); "all" adds up the vCPUs.
Over the rounds: median, min and max.  Ratios are ratios of medians.  A
function's count per operation in a round is the sum of its profiled
blocks' instructions (a block goes to the text symbol at or before its
start address; user blocks to <user>) over the operations; a function
absent from a round's profile counts 0 there.
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
ALL = "all"
# x86-64 module space (MODULES_VADDR to MODULES_END).
MODULES = (0xffffffffa0000000, 0xffffffffff000000)
TEXT_CLASSES = ("t", "T", "w", "W")
# opcount's kernel-core operations: the client runs on the first CPU, the
# kernel core on the last (bench/opcount_kcore.c).
KCORE_PREFIX = "kcore-"
# How far past a module symbol that nm gives no size (assembly) a block
# may start and still be its.
MODULE_SLACK = 256

BATCH_RE = re.compile(r"^insns-batch: (\d+),([^,\s]+),(\d+)$")
SKIP_RE = re.compile(r"^insns-skip: ([^,\s]+),(.*)$")
# The section is optional: ".text" when the guest printed only an address.
MODULE_RE = re.compile(r"^insns-module: (\S+) (?:(\S+) )?0x([0-9a-fA-F]+)$")
MARK_RE = re.compile(r"^insncount: mark (\d+)(?: vcpu (\d+))? user (\d+) "
                     r"kernel (\d+) locked-user (\d+) locked-kernel (\d+)$")
BLOCK_RE = re.compile(r"^insncount: block 0x([0-9a-fA-F]+)(?: vcpu (\d+))? "
                      r"insns (\d+)$")
EXIT_RE = re.compile(r"^insncount: exit after (\d+) marks$")

# One vCPU's share of a bracket: its counters (differences between the
# bracket's two marks) and, with a profile, {block address: instructions}.
Counts = namedtuple("Counts", "user kernel locked_user locked_kernel blocks")


class InsnsError(Exception):
    pass


class Batch:
    """One bracket: round, operation, operation count and one Counts per
    vCPU."""

    def __init__(self, rnd, op, ops, vcpus):
        self.round, self.op, self.ops = rnd, op, ops
        self.vcpus = tuple(vcpus)
        self.profiled = any(c.blocks for c in self.vcpus)

    def counts(self, vcpu=None):
        """vCPU vcpu's Counts, or with None those of all vCPUs added up."""
        if vcpu is not None:
            return self.vcpus[vcpu]
        if len(self.vcpus) == 1:
            return self.vcpus[0]
        blocks = defaultdict(int)
        for c in self.vcpus:
            for addr, insns in c.blocks.items():
                blocks[addr] += insns
        return Counts(*(sum(getattr(c, f) for c in self.vcpus)
                        for f in Counts._fields[:4]), dict(blocks))

    @property
    def blocks(self):
        return self.counts().blocks


def parse_guest(path):
    """[(round, op, ops)] in output order, {op: reason} of skips and
    {module: {section: address}} of the modules insns.sh loaded."""
    batches, skips, modules = [], OrderedDict(), OrderedDict()
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
                continue
            m = MODULE_RE.match(line)
            if m:
                modules.setdefault(m.group(1), OrderedDict())[
                    m.group(2) or ".text"] = int(m.group(3), 16)
    return batches, skips, modules


def parse_insncount(path):
    """The marks' counters, indexed by mark number: for each mark a tuple
    with one (user, kernel, locked_user, locked_kernel) per vCPU; and for
    each mark the blocks listed after it, one {address: instructions}
    (duplicates summed) per vCPU."""
    marks, blocks, exits = [], [], None
    # Whether the lines carry a vcpu field (several vCPUs), from the first.
    multi = None
    # The vCPU lines of the mark being read, and its number; complete
    # groups move to marks.  nr is the group size, that of mark 0.
    group, group_n, nr = [], None, None

    def close(lineno):
        nonlocal group, group_n, nr
        if group_n is None:
            return
        if nr is None:
            nr = len(group)
        elif len(group) != nr:
            raise InsnsError(
                f"{path}:{lineno}: mark {group_n} has {len(group)} vCPU "
                f"line{'s' if len(group) > 1 else ''} where mark 0 had {nr} "
                "(log truncated, or a line lost?)")
        marks.append(tuple(group))
        blocks.append([defaultdict(int) for _ in group])
        group, group_n = [], None

    def check_format(lineno, has_vcpu):
        nonlocal multi
        if multi is None:
            multi = has_vcpu
        elif multi != has_vcpu:
            this, those = ("with", "without") if has_vcpu else ("without", "with")
            raise InsnsError(f"{path}:{lineno}: a line {this} a vcpu field among "
                             f"lines {those} (logs of two runs?)")

    with open(path, errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            m = MARK_RE.match(line)
            if m:
                n = int(m.group(1))
                check_format(lineno, m.group(2) is not None)
                counters = tuple(int(m.group(i)) for i in range(3, 7))
                v = int(m.group(2)) if multi else 0
                if group_n is not None and n == group_n:
                    if v != len(group):
                        raise InsnsError(
                            f"{path}:{lineno}: mark {n} vcpu {v} where vcpu "
                            f"{len(group)} was expected (vCPU lines out of order)")
                    if nr is not None and v >= nr:
                        raise InsnsError(
                            f"{path}:{lineno}: mark {n} vcpu {v} but mark 0 "
                            f"had {nr} vCPUs")
                    group.append(counters)
                    continue
                close(lineno)
                if n != len(marks):
                    raise InsnsError(
                        f"{path}:{lineno}: mark {n} where mark {len(marks)} "
                        "was expected (log truncated, or from two runs?)")
                if v != 0:
                    raise InsnsError(
                        f"{path}:{lineno}: mark {n} starts with vcpu {v}, "
                        "not 0 (a vCPU line lost?)")
                group, group_n = [counters], n
                if not multi:
                    close(lineno)
                continue
            m = BLOCK_RE.match(line)
            if m:
                if group_n is None and not marks:
                    raise InsnsError(f"{path}:{lineno}: block line before any mark")
                check_format(lineno, m.group(2) is not None)
                # The plugin lists blocks after all of a mark's vCPU lines.
                close(lineno)
                v = int(m.group(2)) if multi else 0
                if v >= nr:
                    raise InsnsError(f"{path}:{lineno}: block of vcpu {v} "
                                     f"but the marks have {nr} vCPUs")
                blocks[-1][v][int(m.group(1), 16)] += int(m.group(3))
                continue
            m = EXIT_RE.match(line)
            if m:
                close(lineno)
                exits = int(m.group(1))
        close("end")
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
        vcpus = []
        for v, (s, e) in enumerate(zip(start, end)):
            d = [b - a for a, b in zip(s, e)]
            if min(d) < 0:
                which = f"vCPU {v}'s counters" if len(start) > 1 else "counters"
                raise InsnsError(f"{label}: {which} go backwards between marks "
                                 f"{2 * k} and {2 * k + 1}")
            vcpus.append(Counts(*d, dict(blocks[2 * k + 1][v])))
        out.append(Batch(rnd, op, ops, vcpus))
    return out


def per_op(b, vcpu=None):
    """A batch's metrics per operation, of one vCPU or (None) of all."""
    c = b.counts(vcpu)
    return {"kernel": c.kernel / b.ops, "user": c.user / b.ops,
            "total": (c.kernel + c.user) / b.ops,
            "locked": (c.locked_user + c.locked_kernel) / b.ops}


def stats(values):
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def vcpu_label(op, v, n):
    """vCPU v of n as the tables name it: in a kernel-core operation the
    first runs the client and the last the kernel core."""
    if n > 1 and op.startswith(KCORE_PREFIX):
        if v == 0:
            return "vCPU 0 (client)"
        if v == n - 1:
            return f"vCPU {v} (kernel core)"
    return f"vCPU {v}"


class ModuleSymbols:
    """Text symbols of a loaded module: `nm -f sysv` of its .ko gives each
    symbol's offset in its section and size, the guest each section's
    address.  Init sections are left out: their memory is freed after the
    module's init and may hold other code by the time opcount runs."""

    def __init__(self, module, path, sections):
        self.module = module
        syms, bases = [], {s: a for s, a in sections.items()
                           if not s.startswith(".init")}
        if any(a == 0 for a in bases.values()):
            raise InsnsError(f"module {module}: the guest printed a null section "
                             "address (kptr_restrict?)")
        with open(path) as f:
            for line in f:
                p = [x.strip() for x in line.split("|")]
                if len(p) < 7 or p[2] not in TEXT_CLASSES or not p[1]:
                    continue
                if p[6] in bases:
                    syms.append((bases[p[6]] + int(p[1], 16),
                                 int(p[4], 16) if p[4] else 0, p[6], p[0]))
        if not syms:
            raise InsnsError(f"{path}: no text symbol in the sections the guest "
                             f"printed ({', '.join(bases) or 'none'})")
        syms.sort(key=lambda s: s[0])  # stable: the first alias wins
        # Each section's extent: from its address to its last symbol's end.
        ends = defaultdict(int)
        for a, size, section, _ in syms:
            ends[section] = max(ends[section], a + (size or MODULE_SLACK))
        self.extents = [(bases[s], e) for s, e in ends.items()]
        self.addrs, self.names = [], []
        for a, _, _, n in syms:
            if self.addrs and self.addrs[-1] == a:
                continue
            self.addrs.append(a)
            self.names.append(n)

    def name(self, addr):
        """The symbol at or before addr as 'name [module]', or None outside
        the module's text."""
        if not any(start <= addr < end for start, end in self.extents):
            return None
        return f"{self.names[bisect.bisect_right(self.addrs, addr) - 1]} [{self.module}]"


class Symbols:
    """Text symbols (t, T, w, W) of a System.map, by address, and those of
    the modules given."""

    def __init__(self, path, modules=()):
        syms = []
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] in TEXT_CLASSES:
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
        self.modules = list(modules)

    def name(self, addr):
        if addr < 1 << 63:
            return USER
        for m in self.modules:
            n = m.name(addr)
            if n:
                return n
        if MODULES[0] <= addr < MODULES[1]:
            return "<module>"
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            return f"<kernel {addr:#x}>"
        return self.names[i]


def functions(batch, symbols, vcpu=None):
    """{function: instructions per operation} of a profiled batch, on one
    vCPU or (None) all, with what the profile did not list as UNDER."""
    c = batch.counts(vcpu)
    out = defaultdict(float)
    listed = 0
    for addr, insns in c.blocks.items():
        out[symbols.name(addr)] += insns
        listed += insns
    out[UNDER] = c.kernel + c.user - listed
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
        batches, self.skips, modules = parse_guest(guest)
        marks, blocks = parse_insncount(plugin)
        self.batches = pair(name, batches, marks, blocks)
        # None when no mark was logged (every operation skipped).
        self.nr_vcpus = len(marks[0]) if marks else None
        self.ops = list(OrderedDict.fromkeys(b.op for b in self.batches))
        self.profiled = any(b.profiled for b in self.batches)
        self.symbols = None
        if self.profiled:
            smap = os.path.join(d, f"{name}.System.map")
            if not os.path.exists(smap):
                raise InsnsError(f"{smap} missing: cannot name the profile's blocks")
            mods = []
            for mod, sections in modules.items():
                nm = os.path.join(d, f"{name}.{mod}.nm")
                if not os.path.exists(nm):
                    raise InsnsError(f"{nm} missing: cannot name the blocks "
                                     f"in module {mod}")
                mods.append(ModuleSymbols(mod, nm, sections))
            self.symbols = Symbols(smap, mods)

    def vcpus(self):
        return range(self.nr_vcpus or 0)

    def of(self, op):
        return [b for b in self.batches if b.op == op]

    def metric(self, op, metric, vcpu=None):
        """(median, min, max) of a metric per operation, of one vCPU or
        (None) all, None if op did not run."""
        bs = self.of(op)
        return stats([per_op(b, vcpu)[metric] for b in bs]) if bs else None

    def median(self, op, metric, vcpu=None):
        s = self.metric(op, metric, vcpu)
        return s[0] if s else None

    def function_rounds(self, op, vcpu=None):
        """{function: [per-op count in each round]}, absent = 0."""
        rounds = [functions(b, self.symbols, vcpu) for b in self.of(op) if b.profiled]
        names = set().union(*rounds) if rounds else set()
        return {f: [r.get(f, 0.0) for r in rounds] for f in names}

    def function_medians(self, op, vcpu=None):
        return {f: statistics.median(v)
                for f, v in self.function_rounds(op, vcpu).items()}


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


def run_vcpus(kernels, params):
    """The vCPUs every kernel's log has (1 if none ran a batch): the
    comparisons across kernels need them alike."""
    seen = {k.name: k.nr_vcpus for k in kernels if k.nr_vcpus}
    if len(set(seen.values())) > 1:
        raise InsnsError("the kernels ran with different vCPU counts: " +
                         ", ".join(f"{k} {n}" for k, n in seen.items()))
    n = next(iter(seen.values()), 1)
    if params.get("SMP", str(n)) != str(n):
        raise InsnsError(f"params.txt says SMP={params['SMP']} but the plugin "
                         f"logs have {n} vCPU{'s' if n > 1 else ''}")
    return n


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
    keys = ("SMP", "KERNELS", "OPS", "N", "ROUNDS", "PROFILE")
    # SMP=1 is the default; older runs have no SMP at all.
    env = " ".join(f"{k}=\"{params[k]}\"" if " " in params[k] else f"{k}={params[k]}"
                   for k in keys if k in params and (k, params[k]) != ("SMP", "1"))
    return f"{env} make insns" if env else "make insns"


def write_csv(d, kernels, ops, nr):
    """One vCPU: the columns of the first version, which older results
    have; several: a vcpu column, each vCPU then "all"."""
    multi = nr > 1
    vcpus = list(range(nr)) + [None] if multi else [None]
    with open(os.path.join(d, "insns.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kernel", "op"] + (["vcpu"] if multi else []) +
                   ["metric", "median", "min", "max"])
        for k in kernels:
            for op in ops:
                for v in vcpus:
                    for m in METRICS:
                        s = k.metric(op, m, v)
                        if s:
                            w.writerow([k.name, op] +
                                       ([ALL if v is None else v] if multi else []) +
                                       [f"{m}_per_op"] + [fmt(x) for x in s])
    if not any(k.profiled for k in kernels):
        return
    with open(os.path.join(d, "functions.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kernel", "op"] + (["vcpu"] if multi else []) +
                   ["function", "median", "min", "max"])
        for k in kernels:
            if not k.profiled:
                continue
            for op in ops:
                for v in (range(nr) if multi else [None]):
                    fr = k.function_rounds(op, v)
                    for fn in sorted(fr, key=lambda x: (-statistics.median(fr[x]), x)):
                        w.writerow([k.name, op] + ([v] if multi else []) +
                                   [fn] + [fmt(x) for x in stats(fr[fn])])


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


def detail_table(kernels, ops, nr):
    """Kernel, user, total and locked per operation; with several vCPUs,
    one row per vCPU and one for all of them."""
    multi = nr > 1
    rows = []
    for k in kernels:
        for op in ops:
            for v in (list(range(nr)) + [None] if multi else [None]):
                s = {m: k.metric(op, m, v) for m in METRICS}
                if not s["total"]:
                    continue
                t = s["total"]
                which = ([vcpu_label(op, v, nr) if v is not None else "all vCPUs"]
                         if multi else [])
                rows.append([k.name, op] + which +
                            [fmt(s["kernel"][0]), fmt(s["user"][0]),
                             f"{fmt(t[0])} ({fmt(t[1])}-{fmt(t[2])})",
                             fmt(s["locked"][0]), str(len(k.of(op)))])
    return table(["kernel", "op"] + (["vCPU"] if multi else []) +
                 ["kernel/op", "user/op", "total/op (min-max)", "locked/op",
                  "rounds"], rows)


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


def top_table(k, op, vcpu=None, label=""):
    fr = k.function_rounds(op, vcpu)
    if not fr:
        return []
    title = f"### {k.name}: {op}{', ' + label if label else ''}"
    med = {f: statistics.median(v) for f, v in fr.items()}
    total = k.median(op, "total", vcpu)
    named = sorted((f for f in med if f != UNDER), key=lambda f: (-med[f], f))
    if not named:
        # An idle vCPU: nothing of it reached the threshold.
        return [title, "", f"No block above the profile threshold: "
                f"{fmt(total)} instructions per operation in all.", ""]
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
    return [title, ""] + table(["function", "insns/op", "min-max", "share"], rows)


def diff_table(title, a, op_a, b, op_b, la, lb, vcpu=None):
    ma, mb = a.function_medians(op_a, vcpu), b.function_medians(op_b, vcpu)
    if not ma or not mb:
        return []
    names = set(ma) | set(mb)
    diffs = [(f, ma.get(f, 0.0), mb.get(f, 0.0)) for f in names]
    diffs = [d for d in diffs if abs(d[1] - d[2]) >= MIN_DIFF]
    diffs.sort(key=lambda d: (-abs(d[1] - d[2]), d[0]))
    rows = [[f if f == UNDER else f"`{f}`", fmt(x), fmt(y), fmt_diff(x, y)]
            for f, x, y in diffs]
    ta, tb = a.median(op_a, "total", vcpu), b.median(op_b, "total", vcpu)
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


def write_summary(d, kernels, ops, params, nr):
    byname = {k.name: k for k in kernels}
    multi = nr > 1
    n, rounds = params.get("N", "?"), params.get("ROUNDS", "?")
    profile_min = params.get("PROFILE_MIN")
    where_run = (f"on {nr} vCPUs, each counted apart," if multi else "on one vCPU")
    out = ["# Instructions per operation", "",
           f"Each operation ran N={n} times per bracket, {rounds} rounds "
           f"interleaved, {where_run} under QEMU TCG with the insncount "
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
    out += ["## Per operation", ""]
    if multi:
        out += [f"All {nr} vCPUs added up; the next table splits them.", ""]
    out += ops_table(kernels, ops)
    if multi:
        out += ["## Per kernel, operation and vCPU", "",
                "In a kernel-core operation (kcore-*) the client runs on "
                f"vCPU 0 and the kernel core on vCPU {nr - 1}: the client's "
                "figures are what a call costs the caller, the kernel "
                "core's what serving it costs, its polling of the rings "
                "included.  The other operations are not pinned: they run "
                "on whichever vCPU the scheduler picks, so read their "
                "all-vCPUs row.", ""]
    else:
        out += ["## Per kernel and operation", ""]
    out += detail_table(kernels, ops, nr)
    if any(k.of("dupclose") or k.of("dupclose-share") for k in kernels):
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
            "atomic costs (hence the locked column)."]
    if multi:
        out += ["- A bracket counts everything each vCPU ran in it: timer "
                "interrupts, softirqs, other tasks, idle loops.  Hence N "
                "operations per bracket and medians over rounds.",
                "- The plugin logs a mark from the vCPU that ran the marker "
                "while the others run on: their counters are read a moment "
                "before their profile, so the blocks a profile lists can "
                "exceed the count by a few instructions per operation (a "
                "negative remainder under the threshold).",
                "- A vCPU that waits by spinning (a kernel-core client "
                "waiting for its result, a kernel core polling its rings) "
                "retires instructions for as long as the other takes, and "
                "under TCG that depends on how the host schedules the vCPU "
                "threads: those counts vary from run to run, unlike the "
                "others.",
                "- Booted with noreplace-smp and norandmaps, as with one "
                "vCPU: without ASLR a mapping lands at the same place in "
                "every boot (where it falls against page tables other "
                "mappings filled changes how much munmap walks)."]
    else:
        out += ["- A bracket counts everything the one vCPU ran in it: timer "
                "interrupts, softirqs, other tasks.  Hence N operations per "
                "bracket and medians over rounds.",
                "- One vCPU, booted with noreplace-smp so that the kernel keeps "
                "its LOCK prefixes (the SMP code every real machine runs), and "
                "norandmaps: without ASLR a mapping lands at the same place in "
                "every boot (where it falls against page tables other mappings "
                "filled changes how much munmap walks)."]
    out += ["- TCG counts a REP-prefixed string instruction once per "
            "iteration (clear_page_erms: one per byte of the page).",
            ""]
    if any(k.profiled for k in kernels):
        out += profile_sections(kernels, ops, byname, profile_min, nr)
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write("\n".join(out))


def profile_sections(kernels, ops, byname, profile_min, nr):
    multi = nr > 1
    # One vCPU: its tables as before; several: one per vCPU.
    vcpus = list(range(nr)) if multi else [None]

    def label(op, v):
        return vcpu_label(op, v, nr) if v is not None else ""

    out = ["## Where the instructions go", "",
           "From the plugin's block profile: the blocks that retired at "
           + (f"least {profile_min} instructions " if profile_min else
              "least the profile threshold ")
           + "in a bracket, each attributed to the text symbol at or before "
           "its start address (inlined code counts in its caller); user "
           f"blocks are {USER}, a module's functions `name [module]`.  A "
           "function's figure is the median over the rounds of its "
           "instructions per operation"
           + (", on the vCPU its table names." if multi else "."), ""]
    for k in kernels:
        if not k.profiled:
            continue
        for op in ops:
            for v in vcpus:
                out += top_table(k, op, v, label(op, v))
    diffs = []
    corey, stock = byname.get("corey"), byname.get("stock")
    if corey and corey.profiled and corey.of("dupclose-share") and corey.of("dupclose"):
        for v in vcpus:
            what = f", {label('dupclose', v)}" if multi else ""
            diffs += diff_table(f"corey{what}: dupclose-share against dupclose",
                                corey, "dupclose-share", corey, "dupclose",
                                "dupclose-share", "dupclose", v)
    if corey and stock and corey.profiled and stock.profiled:
        for op in ops:
            if corey.of(op) and stock.of(op):
                for v in vcpus:
                    what = f", {label(op, v)}" if multi else ""
                    diffs += diff_table(f"{op}{what}: corey against stock", corey, op,
                                        stock, op, "corey", "stock", v)
    # Nothing to compare (one kernel, no dupclose pair): no heading either.
    if diffs:
        out += ["## Differences by function", "",
                f"Functions whose instructions per operation differ by "
                f"{MIN_DIFF} or more (medians), largest first.", ""] + diffs
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
    nr = run_vcpus(kernels, params)
    write_csv(d, kernels, ops, nr)
    write_summary(d, kernels, ops, params, nr)


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.exit("usage: insns_report.py RESULTS_DIR")
    try:
        report(argv[1])
    except (InsnsError, OSError) as e:
        sys.exit(f"insns_report.py: error: {e}")


if __name__ == "__main__":
    main(sys.argv)
