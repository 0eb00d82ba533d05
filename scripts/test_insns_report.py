#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host tests of insns_report.py on synthetic guest and plugin logs."""
import csv
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import insns_report as ir  # noqa: E402

# Kernel text of the synthetic System.map.
SYSTEM_MAP = """\
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81001000 T alpha
ffffffff81001100 t beta
ffffffff81001200 D some_data
ffffffff81001300 W gamma
ffffffff81002000 T _etext
"""
ALPHA, BETA, GAMMA = 0xffffffff81001000, 0xffffffff81001100, 0xffffffff81001300


def mark(n, user, kernel, lu=0, lk=0):
    return (f"insncount: mark {n} user {user} kernel {kernel} "
            f"locked-user {lu} locked-kernel {lk}")


def block(addr, insns):
    return f"insncount: block {addr:#x} insns {insns}"


def plugin_log(brackets, start=(1000, 5000, 1, 2), gap=(77, 999, 3, 5)):
    """Plugin log lines for brackets [(user, kernel, lu, lk, blocks)]:
    counters start at start, grow by each bracket's figures inside it and
    by gap between brackets, with blocks (a list of (addr, insns)) after
    the bracket's closing mark and a decoy block after its opening one."""
    lines, c = [], list(start)
    for i, (u, k, lu, lk, blocks) in enumerate(brackets):
        lines.append(mark(2 * i, *c))
        lines.append(block(GAMMA, 10 ** 9))  # between brackets: ignored
        c = [c[0] + u, c[1] + k, c[2] + lu, c[3] + lk]
        lines.append(mark(2 * i + 1, *c))
        lines += [block(a, n) for a, n in blocks]
        c = [x + g for x, g in zip(c, gap)]
    lines.append(f"insncount: exit after {2 * len(brackets)} marks")
    return lines


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_kernel(d, name, guest, brackets, smap=SYSTEM_MAP):
    write(os.path.join(d, f"{name}.guest.log"), guest)
    write(os.path.join(d, f"{name}.insncount.log"), plugin_log(brackets))
    if smap is not None:
        with open(os.path.join(d, f"{name}.System.map"), "w") as f:
            f.write(smap)


class Pairing(unittest.TestCase):
    def test_batch_k_is_between_marks_2k_and_2k_plus_1(self):
        batches = [(0, "getppid", 10), (0, "dupclose", 20)]
        marks, blocks = [], []
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "k.insncount.log")
            write(p, plugin_log([(100, 2000, 0, 0, []), (400, 9000, 6, 80, [])]))
            marks, blocks = ir.parse_insncount(p)
        out = ir.pair("k", batches, marks, blocks)
        self.assertEqual([(b.op, b.ops) for b in out], [("getppid", 10), ("dupclose", 20)])
        # The gap between brackets (77 user, 999 kernel) is in neither.
        self.assertEqual(ir.per_op(out[0]), {"kernel": 200.0, "user": 10.0,
                                             "total": 210.0, "locked": 0.0})
        self.assertEqual(ir.per_op(out[1]), {"kernel": 450.0, "user": 20.0,
                                             "total": 470.0, "locked": 4.3})

    def test_guest_log_batches_skips_and_carriage_returns(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "g.log")
            write(p, ["corey-vm: 6.12, 1 CPUs, running: opcount",
                      "insns-batch: 0,getppid,100\r",
                      "insns-skip: dupclose-share,this kernel lacks the feature\r",
                      "insns-batch: 0,fault-anon,1024",
                      "insns-batch: 1,getppid,100",
                      "insns-skip: dupclose-share,again"])
            batches, skips, modules = ir.parse_guest(p)
        self.assertEqual(modules, {})
        self.assertEqual(batches, [(0, "getppid", 100), (0, "fault-anon", 1024),
                                   (1, "getppid", 100)])
        self.assertEqual(dict(skips), {"dupclose-share": "this kernel lacks the feature"})

    def test_mark_count_must_be_twice_the_batches(self):
        marks = [((0, 0, 0, 0),)] * 3
        with self.assertRaisesRegex(ir.InsnsError, "3 marks .* 2 batches"):
            ir.pair("k", [(0, "a", 1), (0, "b", 1)], marks, [[{}]] * 3)
        with self.assertRaises(ir.InsnsError):
            ir.pair("k", [(0, "a", 1)], [((0, 0, 0, 0),)] * 4, [[{}]] * 4)

    def test_mark_numbers_must_follow_each_other(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "k.insncount.log")
            write(p, [mark(0, 1, 1), mark(2, 2, 2)])
            with self.assertRaisesRegex(ir.InsnsError, "mark 2 where mark 1"):
                ir.parse_insncount(p)

    def test_exit_line_must_match_the_marks_seen(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "k.insncount.log")
            write(p, [mark(0, 1, 1), mark(1, 2, 2), "insncount: exit after 4 marks"])
            with self.assertRaisesRegex(ir.InsnsError, "4 marks at exit"):
                ir.parse_insncount(p)

    def test_counters_going_backwards_are_refused(self):
        with self.assertRaisesRegex(ir.InsnsError, "backwards"):
            ir.pair("k", [(0, "a", 1)], [((5, 5, 0, 0),), ((4, 6, 0, 0),)],
                    [[{}], [{}]])

    def test_mismatch_fails_the_whole_report(self):
        with tempfile.TemporaryDirectory() as d:
            write_kernel(d, "stock", ["insns-batch: 0,getppid,10"],
                         [(1, 1, 0, 0, []), (1, 1, 0, 0, [])])
            with self.assertRaisesRegex(ir.InsnsError, "4 marks .* 1 batches"):
                ir.report(d)
            with self.assertRaises(SystemExit):
                ir.main(["insns_report.py", d])


class Profile(unittest.TestCase):
    def test_symbols_nearest_preceding_text_symbol(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "System.map")
            with open(p, "w") as f:
                f.write(SYSTEM_MAP)
            s = ir.Symbols(p)
        self.assertEqual(s.name(ALPHA), "alpha")
        self.assertEqual(s.name(ALPHA + 0xff), "alpha")
        self.assertEqual(s.name(BETA + 0x150), "beta")  # data symbols skipped
        self.assertEqual(s.name(GAMMA + 4), "gamma")  # weak symbols count
        self.assertEqual(s.name(0xffffffff81000000), "_stext")  # first alias
        self.assertEqual(s.name(0x401000), ir.USER)
        self.assertEqual(s.name(0xffffffffa0001000), "<module>")
        self.assertEqual(s.name(0xffffffff80000000), "<kernel 0xffffffff80000000>")

    def test_duplicate_addresses_add_up_and_odd_sections_count(self):
        with tempfile.TemporaryDirectory() as d:
            # 10 operations: 60 kernel and 10 user instructions per op;
            # alpha's block was translated twice (two lines), beta once,
            # a user block once; 5 kernel instructions per op unlisted.
            write_kernel(d, "corey", ["insns-batch: 0,getppid,10"],
                         [(100, 600, 0, 0,
                           [(ALPHA, 200), (BETA + 8, 150), (ALPHA, 50),
                            (BETA, 150), (0x401000, 100)])])
            k = ir.Kernel(d, "corey")
        self.assertEqual(k.batches[0].blocks[ALPHA], 250)
        f = k.function_medians("getppid")
        self.assertEqual(f, {"alpha": 25.0, "beta": 30.0, ir.USER: 10.0,
                             ir.UNDER: 5.0})
        # The decoy blocks after the even marks (gamma) are nowhere.
        self.assertNotIn("gamma", f)

    def test_function_absent_from_a_round_counts_zero(self):
        with tempfile.TemporaryDirectory() as d:
            write_kernel(d, "corey",
                         ["insns-batch: 0,getppid,10", "insns-batch: 1,getppid,10",
                          "insns-batch: 2,getppid,10"],
                         [(0, 100, 0, 0, [(ALPHA, 100)]),
                          (0, 100, 0, 0, [(ALPHA, 90), (BETA, 10)]),
                          (0, 100, 0, 0, [(ALPHA, 80), (BETA, 20)])])
            k = ir.Kernel(d, "corey")
        fr = k.function_rounds("getppid")
        self.assertEqual(fr["beta"], [0.0, 1.0, 2.0])
        self.assertEqual(k.function_medians("getppid")["beta"], 1.0)
        self.assertEqual(k.function_medians("getppid")["alpha"], 9.0)

    def test_block_before_any_mark_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "k.insncount.log")
            write(p, [block(ALPHA, 5), mark(0, 1, 1)])
            with self.assertRaisesRegex(ir.InsnsError, "before any mark"):
                ir.parse_insncount(p)

    def test_profile_needs_the_system_map(self):
        with tempfile.TemporaryDirectory() as d:
            write_kernel(d, "corey", ["insns-batch: 0,getppid,10"],
                         [(0, 100, 0, 0, [(ALPHA, 100)])], smap=None)
            with self.assertRaisesRegex(ir.InsnsError, "System.map missing"):
                ir.Kernel(d, "corey")

    def test_no_profile_needs_no_system_map(self):
        with tempfile.TemporaryDirectory() as d:
            write_kernel(d, "corey", ["insns-batch: 0,getppid,10"],
                         [(0, 100, 0, 0, [])], smap=None)
            k = ir.Kernel(d, "corey")
        self.assertFalse(k.profiled)


class Report(unittest.TestCase):
    """Two kernels, three rounds, ratios of medians, skips, the tables."""

    def run_report(self, d):
        # stock: getppid 100/op (one round disturbed by an interrupt),
        # dupclose 200/op; dupclose-share skipped.
        write_kernel(d, "stock",
                     ["insns-batch: 0,getppid,10", "insns-batch: 0,dupclose,10",
                      "insns-skip: dupclose-share,this kernel lacks the feature",
                      "insns-batch: 1,getppid,10", "insns-batch: 1,dupclose,10",
                      "insns-batch: 2,getppid,10", "insns-batch: 2,dupclose,10"],
                     [(100, 900, 0, 0, [(ALPHA, 900)]),
                      (100, 1900, 0, 40, [(ALPHA, 1500), (BETA, 400)]),
                      (100, 5900, 0, 0, [(ALPHA, 5800), (BETA, 100)]),  # an interrupt
                      (100, 1900, 0, 40, [(ALPHA, 1500), (BETA, 400)]),
                      (100, 900, 0, 0, [(ALPHA, 900)]),
                      (100, 1900, 0, 40, [(ALPHA, 1500), (BETA, 400)])])
        # corey: getppid 100/op, dupclose 210/op, dupclose-share 231/op.
        write_kernel(d, "corey",
                     ["insns-batch: 0,getppid,10", "insns-batch: 0,dupclose,10",
                      "insns-batch: 0,dupclose-share,10",
                      "insns-batch: 1,getppid,10", "insns-batch: 1,dupclose,10",
                      "insns-batch: 1,dupclose-share,10"],
                     [(100, 900, 0, 0, [(ALPHA, 900)]),
                      (100, 2000, 0, 40, [(ALPHA, 1500), (BETA, 500)]),
                      (100, 2210, 0, 50, [(ALPHA, 1500), (BETA, 500), (GAMMA, 210)]),
                      (100, 900, 0, 0, [(ALPHA, 900)]),
                      (100, 2000, 0, 40, [(ALPHA, 1500), (BETA, 500)]),
                      (100, 2210, 0, 50, [(ALPHA, 1500), (BETA, 500), (GAMMA, 210)])])
        write(os.path.join(d, "params.txt"),
              ["KERNELS=stock corey", "OPS=getppid dupclose dupclose-share",
               "N=10", "ROUNDS=3", "PROFILE=1", "PROFILE_MIN=1",
               "cmdline.corey=console=ttyS0 noreplace-smp norandmaps"])
        ir.report(d)
        with open(os.path.join(d, "insns.csv")) as f:
            rows = list(csv.reader(f))
        with open(os.path.join(d, "summary.md")) as f:
            summary = f.read()
        return rows, summary

    def test_csv_medians_min_max(self):
        with tempfile.TemporaryDirectory() as d:
            rows, _ = self.run_report(d)
        self.assertEqual(rows[0], ["kernel", "op", "metric", "median", "min", "max"])
        self.assertIn(["stock", "getppid", "total_per_op", "100.0", "100.0", "600.0"], rows)
        self.assertIn(["stock", "dupclose", "locked_per_op", "4.0", "4.0", "4.0"], rows)
        self.assertIn(["corey", "dupclose-share", "user_per_op", "10.0", "10.0", "10.0"], rows)
        self.assertFalse([r for r in rows if r[0] == "stock" and r[1] == "dupclose-share"])

    def test_ratio_of_medians(self):
        with tempfile.TemporaryDirectory() as d:
            _, summary = self.run_report(d)
        # The disturbed round does not move the median: 100 against 100.
        self.assertIn("| getppid | 100.0 | 100.0 | 1.000 | 0.0 | 0.0 |", summary)
        self.assertIn("| dupclose | 200.0 | 210.0 | 1.050 | 4.0 | 4.0 |", summary)
        self.assertIn("| dupclose-share | skipped | 231.0 |  | skipped | 5.0 |", summary)

    def test_shares_table(self):
        with tempfile.TemporaryDirectory() as d:
            _, summary = self.run_report(d)
        self.assertIn("| dupclose | corey | 210.0 | 4.0 | 1.100 | +21.0 | +1.0 |", summary)
        self.assertIn("| dupclose | stock | 200.0 | 4.0 | 1.155 | +31.0 | +1.0 |", summary)

    def test_skips_command_and_caveats(self):
        with tempfile.TemporaryDirectory() as d:
            _, summary = self.run_report(d)
        self.assertIn("- stock: dupclose-share (this kernel lacks the feature)", summary)
        self.assertIn('KERNELS="stock corey" OPS="getppid dupclose dupclose-share" '
                      "N=10 ROUNDS=3 PROFILE=1 make insns", summary)
        self.assertIn("noreplace-smp", summary)
        self.assertIn("cache misses", summary)
        self.assertIn("corey booted with: `console=ttyS0 noreplace-smp norandmaps`", summary)

    def test_shares_table_needs_dupclose(self):
        with tempfile.TemporaryDirectory() as d:
            write_kernel(d, "corey", ["insns-batch: 0,dupclose-share,10"],
                         [(0, 100, 0, 0, [])])
            ir.report(d)
            with open(os.path.join(d, "summary.md")) as f:
                summary = f.read()
            self.assertFalse(os.path.exists(os.path.join(d, "functions.csv")))
        self.assertIn("dupclose did not run: no comparison.", summary)
        self.assertNotIn("## Where the instructions go", summary)

    def test_no_comparison_no_differences_heading(self):
        with tempfile.TemporaryDirectory() as d:
            write_kernel(d, "corey", ["insns-batch: 0,getppid,10"],
                         [(0, 100, 0, 0, [(ALPHA, 100)])])
            ir.report(d)
            with open(os.path.join(d, "summary.md")) as f:
                summary = f.read()
        self.assertIn("### corey: getppid", summary)
        self.assertNotIn("## Differences by function", summary)
        self.assertNotIn("## Descriptor shares", summary)

    def test_function_tables_and_differences(self):
        with tempfile.TemporaryDirectory() as d:
            _, summary = self.run_report(d)
            with open(os.path.join(d, "functions.csv")) as f:
                frows = list(csv.reader(f))
        self.assertIn(["stock", "getppid", "alpha", "90.0", "90.0", "580.0"], frows)
        self.assertIn("### corey: dupclose-share", summary)
        # beta ran in one round of stock's getppid only: a median of 0,
        # counted with the other functions, not listed.
        part = summary.split("### stock: getppid")[1].split("###")[0]
        self.assertNotIn("`beta`", part)
        self.assertIn("| (1 other function) | 0.0 |", part)
        # dupclose-share against dupclose on corey: gamma is the difference.
        part = summary.split("### corey: dupclose-share against dupclose")[1]
        part = part.split("###")[0]
        self.assertIn("| `gamma` | 21.0 | 0.0 | +21.0 |", part)
        self.assertNotIn("`alpha`", part)  # equal: below the 0.5 threshold
        self.assertIn("| total | 231.0 | 210.0 | +21.0 |", part)
        part = summary.split("### dupclose: corey against stock")[1].split("###")[0]
        self.assertIn("| `beta` | 50.0 | 40.0 | +10.0 |", part)
        part = summary.split("### getppid: corey against stock")[1].split("###")[0]
        self.assertIn("No function differs", part)


# Two vCPUs, as SMP=2 logs them.
def vmark(n, v, user, kernel, lu=0, lk=0):
    return (f"insncount: mark {n} vcpu {v} user {user} kernel {kernel} "
            f"locked-user {lu} locked-kernel {lk}")


def vblock(addr, v, insns):
    return f"insncount: block {addr:#x} vcpu {v} insns {insns}"


def smp_log(brackets, nr=2, gap=(7, 99, 1, 1)):
    """Like plugin_log, with nr vCPUs: each bracket is one (user, kernel,
    lu, lk, blocks) per vCPU; vCPU v starts at 1000 * (v + 1) of each
    counter."""
    lines, c = [], [[1000 * (v + 1)] * 4 for v in range(nr)]
    for i, bracket in enumerate(brackets):
        lines += [vmark(2 * i, v, *c[v]) for v in range(nr)]
        lines += [vblock(GAMMA, v, 10 ** 9) for v in range(nr)]  # ignored
        for v, (u, k, lu, lk, _) in enumerate(bracket):
            c[v] = [c[v][0] + u, c[v][1] + k, c[v][2] + lu, c[v][3] + lk]
        lines += [vmark(2 * i + 1, v, *c[v]) for v in range(nr)]
        for v, (*_, blocks) in enumerate(bracket):
            lines += [vblock(a, v, n) for a, n in blocks]
        c = [[x + g for x, g in zip(cv, gap)] for cv in c]
    lines.append(f"insncount: exit after {2 * len(brackets)} marks")
    return lines


# corey_kcore.ko as `nm -f sysv --defined-only` lists it: offsets in each
# section; init_module and cleanup_module are at 0 of sections of their own.
MODULE_NM = """\


Symbols from corey_kcore.ko:

Name                  Value           Class        Type         Size             Line  Section

cleanup_module      |0000000000000000|   T  |              FUNC|0000000000000011|     |.exit.text
init_module         |0000000000000000|   T  |              FUNC|0000000000000034|     |.init.text
kcore_check_caller  |0000000000000000|   t  |              FUNC|0000000000000040|     |.text
kcore_run           |0000000000000100|   T  |              FUNC|0000000000000200|     |.text
kcore_ops           |0000000000000000|   d  |            OBJECT|0000000000000008|     |.data
"""
TEXT, EXIT, INIT = 0xffffffffc0001000, 0xffffffffc0003000, 0xffffffffc0005000
MODULE_LINES = [f"insns-module: corey_kcore .text {TEXT:#x}",
                f"insns-module: corey_kcore .exit.text {EXIT:#x}",
                f"insns-module: corey_kcore .init.text {INIT:#x}"]


def write_smp_kernel(d, name, guest, brackets, nr=2, nm=MODULE_NM):
    write(os.path.join(d, f"{name}.guest.log"), guest)
    write(os.path.join(d, f"{name}.insncount.log"), smp_log(brackets, nr))
    with open(os.path.join(d, f"{name}.System.map"), "w") as f:
        f.write(SYSTEM_MAP)
    if nm is not None:
        with open(os.path.join(d, f"{name}.corey_kcore.nm"), "w") as f:
            f.write(nm)


class Vcpus(unittest.TestCase):
    """Several vCPUs: one mark line per vCPU, counted apart."""

    def parse(self, lines):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "k.insncount.log")
            write(p, lines)
            return ir.parse_insncount(p)

    def test_groups_pair_per_vcpu(self):
        marks, blocks = self.parse(smp_log(
            [[(10, 200, 0, 4, [(ALPHA, 150)]), (0, 900, 0, 9, [(BETA, 800)])],
             [(20, 300, 0, 0, []), (0, 50, 0, 0, [])]]))
        self.assertEqual(len(marks), 4)
        self.assertEqual(marks[0], ((1000,) * 4, (2000,) * 4))
        self.assertEqual(blocks[1], [{ALPHA: 150}, {BETA: 800}])
        out = ir.pair("k", [(0, "kcore-sync", 10), (0, "dup3close", 10)],
                      marks, blocks)
        self.assertEqual(ir.per_op(out[0], 0), {"kernel": 20.0, "user": 1.0,
                                                "total": 21.0, "locked": 0.4})
        self.assertEqual(ir.per_op(out[0], 1), {"kernel": 90.0, "user": 0.0,
                                                "total": 90.0, "locked": 0.9})
        # None: the vCPUs added up, blocks included.
        self.assertEqual(ir.per_op(out[0]), {"kernel": 110.0, "user": 1.0,
                                             "total": 111.0, "locked": 1.3})
        self.assertEqual(out[0].blocks, {ALPHA: 150, BETA: 800})
        self.assertTrue(out[0].profiled)
        self.assertFalse(out[1].profiled)
        self.assertEqual(ir.per_op(out[1], 1)["total"], 5.0)

    def test_missing_vcpu_line_is_refused(self):
        lines = smp_log([[(1, 1, 0, 0, []), (1, 1, 0, 0, [])]] * 2)
        lines = [x for x in lines if not x.startswith("insncount: mark 2 vcpu 1 ")]
        with self.assertRaisesRegex(ir.InsnsError, "mark 2 has 1 vCPU line where mark 0 had 2"):
            self.parse(lines)
        # The last mark's group, cut short.
        lines = smp_log([[(1, 1, 0, 0, []), (1, 1, 0, 0, [])]])[:-2]
        with self.assertRaisesRegex(ir.InsnsError, "mark 1 has 1 vCPU line"):
            self.parse(lines)

    def test_out_of_order_vcpus_are_refused(self):
        with self.assertRaisesRegex(ir.InsnsError, "mark 0 starts with vcpu 1"):
            self.parse([vmark(0, 1, 1, 1), vmark(0, 0, 1, 1)])
        with self.assertRaisesRegex(ir.InsnsError, "vcpu 0 where vcpu 1 was expected"):
            self.parse([vmark(0, 0, 1, 1), vmark(0, 0, 1, 1)])
        with self.assertRaisesRegex(ir.InsnsError, "mark 1 vcpu 2 but mark 0 had 2"):
            self.parse([vmark(0, 0, 1, 1), vmark(0, 1, 1, 1),
                        vmark(1, 0, 1, 1), vmark(1, 1, 1, 1), vmark(1, 2, 1, 1)])
        # A vCPU's line after the blocks that follow its mark.
        with self.assertRaisesRegex(ir.InsnsError, "mark 0 where mark 1"):
            self.parse([vmark(0, 0, 1, 1), vblock(ALPHA, 0, 5), vmark(0, 1, 1, 1)])

    def test_formats_do_not_mix(self):
        with self.assertRaisesRegex(ir.InsnsError, "vcpu field"):
            self.parse([mark(0, 1, 1), vmark(1, 0, 1, 1)])
        with self.assertRaisesRegex(ir.InsnsError, "vcpu field"):
            self.parse([mark(0, 1, 1), vblock(ALPHA, 0, 5)])
        with self.assertRaisesRegex(ir.InsnsError, "block of vcpu 2"):
            self.parse([vmark(0, 0, 1, 1), vmark(0, 1, 1, 1), vblock(ALPHA, 2, 5)])

    def test_one_vcpus_counters_going_backwards_are_refused(self):
        marks, blocks = self.parse([vmark(0, 0, 5, 5), vmark(0, 1, 5, 5),
                                    vmark(1, 0, 6, 6), vmark(1, 1, 5, 4)])
        with self.assertRaisesRegex(ir.InsnsError, "vCPU 1's counters go backwards"):
            ir.pair("k", [(0, "a", 1)], marks, blocks)

    def test_labels(self):
        self.assertEqual(ir.vcpu_label("kcore-sync", 0, 2), "vCPU 0 (client)")
        self.assertEqual(ir.vcpu_label("kcore-batch", 3, 4), "vCPU 3 (kernel core)")
        self.assertEqual(ir.vcpu_label("kcore-batch", 1, 4), "vCPU 1")
        self.assertEqual(ir.vcpu_label("dup3close", 1, 2), "vCPU 1")
        self.assertEqual(ir.vcpu_label("kcore-sync", 0, 1), "vCPU 0")


class Module(unittest.TestCase):
    def test_module_blocks_get_the_module_names(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "nm")
            with open(p, "w") as f:
                f.write(MODULE_NM)
            with open(os.path.join(d, "System.map"), "w") as f:
                f.write(SYSTEM_MAP)
            m = ir.ModuleSymbols("corey_kcore", p, {".text": TEXT, ".exit.text": EXIT,
                                                    ".init.text": INIT})
            s = ir.Symbols(os.path.join(d, "System.map"), [m])
        self.assertEqual(s.name(TEXT), "kcore_check_caller [corey_kcore]")
        self.assertEqual(s.name(TEXT + 0x1ff), "kcore_run [corey_kcore]")
        self.assertEqual(s.name(TEXT + 0x2ff), "kcore_run [corey_kcore]")
        self.assertEqual(s.name(EXIT + 4), "cleanup_module [corey_kcore]")
        # Past the last symbol's end, and the freed init text: not named.
        self.assertEqual(s.name(TEXT + 0x300), "<module>")
        self.assertEqual(s.name(INIT), "<module>")
        self.assertEqual(s.name(ALPHA), "alpha")

    def test_guest_lines_and_errors(self):
        with tempfile.TemporaryDirectory() as d:
            g = os.path.join(d, "g.log")
            write(g, MODULE_LINES + ["insns-module: other 0xffffffffc0100000\r"])
            _, _, modules = ir.parse_guest(g)
            self.assertEqual(modules["corey_kcore"],
                             {".text": TEXT, ".exit.text": EXIT, ".init.text": INIT})
            self.assertEqual(modules["other"], {".text": 0xffffffffc0100000})
            p = os.path.join(d, "nm")
            with open(p, "w") as f:
                f.write(MODULE_NM)
            with self.assertRaisesRegex(ir.InsnsError, "null section address"):
                ir.ModuleSymbols("corey_kcore", p, {".text": 0})
            with self.assertRaisesRegex(ir.InsnsError, "no text symbol"):
                ir.ModuleSymbols("corey_kcore", p, {".text.unlikely": TEXT})

    def test_profile_needs_the_module_symbols(self):
        with tempfile.TemporaryDirectory() as d:
            write_smp_kernel(d, "corey", MODULE_LINES + ["insns-batch: 0,kcore-sync,10"],
                             [[(0, 10, 0, 0, [(ALPHA, 10)]), (0, 10, 0, 0, [])]], nm=None)
            with self.assertRaisesRegex(ir.InsnsError, "corey_kcore.nm missing"):
                ir.Kernel(d, "corey")


class SmpReport(unittest.TestCase):
    """SMP=2: corey with a kernel core, stock without."""

    def run_report(self, d):
        kcore = [(10, 500, 0, 20, [(ALPHA, 300), (0x401000, 10)]),
                 (0, 2000, 0, 10, [(TEXT + 0x110, 1500), (BETA, 400)])]
        direct = [(10, 600, 0, 30, [(ALPHA, 600)]),
                  (0, 3, 0, 0, [])]
        write_smp_kernel(d, "corey", MODULE_LINES + [
            "insns-batch: 0,dup3close,10", "insns-batch: 0,kcore-sync,10",
            "insns-batch: 1,dup3close,10", "insns-batch: 1,kcore-sync,10"],
            [direct, kcore, direct, kcore])
        write_smp_kernel(d, "stock", [
            "insns-batch: 0,dup3close,10", "insns-skip: kcore-sync,no kernel cores",
            "insns-batch: 1,dup3close,10"], [direct, direct], nm=None)
        write(os.path.join(d, "params.txt"),
              ["KERNELS=stock corey", "OPS=dup3close kcore-sync", "N=10",
               "ROUNDS=2", "PROFILE=1", "PROFILE_MIN=1", "SMP=2"])
        ir.report(d)
        with open(os.path.join(d, "insns.csv")) as f:
            rows = list(csv.reader(f))
        with open(os.path.join(d, "functions.csv")) as f:
            frows = list(csv.reader(f))
        with open(os.path.join(d, "summary.md")) as f:
            summary = f.read()
        return rows, frows, summary

    def test_csv_has_a_vcpu_column(self):
        with tempfile.TemporaryDirectory() as d:
            rows, frows, _ = self.run_report(d)
        self.assertEqual(rows[0], ["kernel", "op", "vcpu", "metric", "median", "min", "max"])
        for row in (["0", "total_per_op", "51.0", "51.0", "51.0"],
                    ["1", "kernel_per_op", "200.0", "200.0", "200.0"],
                    ["all", "total_per_op", "251.0", "251.0", "251.0"],
                    ["all", "locked_per_op", "3.0", "3.0", "3.0"]):
            self.assertIn(["corey", "kcore-sync"] + row, rows)
        self.assertEqual(frows[0], ["kernel", "op", "vcpu", "function", "median", "min", "max"])
        self.assertIn(["corey", "kcore-sync", "1", "kcore_run [corey_kcore]",
                       "150.0", "150.0", "150.0"], frows)
        self.assertIn(["corey", "kcore-sync", "0", ir.USER, "1.0", "1.0", "1.0"], frows)
        self.assertIn(["corey", "dup3close", "1", ir.UNDER, "0.3", "0.3", "0.3"], frows)

    def test_summary_per_vcpu(self):
        with tempfile.TemporaryDirectory() as d:
            _, _, summary = self.run_report(d)
        self.assertIn("SMP=2 KERNELS=", summary)
        self.assertIn("on 2 vCPUs, each counted apart", summary)
        self.assertIn("| dup3close | 61.3 | 61.3 | 1.000 | 3.0 | 3.0 |", summary)
        for row in ("vCPU 0 (client) | 50.0 | 1.0 | 51.0 (51.0-51.0) | 2.0",
                    "vCPU 1 (kernel core) | 200.0 | 0.0 | 200.0 (200.0-200.0) | 1.0",
                    "all vCPUs | 250.0 | 1.0 | 251.0 (251.0-251.0) | 3.0"):
            self.assertIn(f"| corey | kcore-sync | {row} | 2 |", summary)
        self.assertIn("| stock | dup3close | vCPU 1 | 0.3 | 0.0 | 0.3 (0.3-0.3) | 0.0 | 2 |",
                      summary)
        self.assertNotIn("## Descriptor shares", summary)
        self.assertIn("- stock: kcore-sync (no kernel cores)", summary)
        part = summary.split("### corey: kcore-sync, vCPU 1 (kernel core)")[1].split("###")[0]
        self.assertIn("| `kcore_run [corey_kcore]` | 150.0 | 150.0-150.0 | 75.0% |", part)
        self.assertIn("| `beta` | 40.0 |", part)
        part = summary.split("### corey: dup3close, vCPU 1")[1].split("###")[0]
        self.assertIn("No block above the profile threshold: 0.3 instructions", part)
        self.assertIn("### dup3close, vCPU 0: corey against stock", summary)
        self.assertIn("### dup3close, vCPU 1: corey against stock", summary)

    def test_vcpu_counts_must_agree(self):
        with tempfile.TemporaryDirectory() as d:
            self.run_report(d)
            write(os.path.join(d, "stock.insncount.log"),
                  plugin_log([(1, 1, 0, 0, []), (1, 1, 0, 0, [])]))
            with self.assertRaisesRegex(ir.InsnsError, "different vCPU counts"):
                ir.report(d)
        with tempfile.TemporaryDirectory() as d:
            self.run_report(d)
            write(os.path.join(d, "params.txt"), ["KERNELS=stock corey", "SMP=4"])
            with self.assertRaisesRegex(ir.InsnsError, "SMP=4 but the plugin logs have 2"):
                ir.report(d)


class Formatting(unittest.TestCase):
    def test_one_decimal_and_ratios(self):
        self.assertEqual(ir.fmt(1234.56), "1234.6")
        self.assertEqual(ir.fmt_ratio(105.0, 100.0), "1.050")
        self.assertEqual(ir.fmt_ratio(1.0, 0.0), "")
        self.assertEqual(ir.fmt_diff(1.02, 1.0), "0.0")
        self.assertEqual(ir.fmt_diff(0.0, 1.0), "-1.0")


if __name__ == "__main__":
    unittest.main()
