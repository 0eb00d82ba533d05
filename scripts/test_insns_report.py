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
            batches, skips = ir.parse_guest(p)
        self.assertEqual(batches, [(0, "getppid", 100), (0, "fault-anon", 1024),
                                   (1, "getppid", 100)])
        self.assertEqual(dict(skips), {"dupclose-share": "this kernel lacks the feature"})

    def test_mark_count_must_be_twice_the_batches(self):
        marks = [(0, 0, 0, 0)] * 3
        with self.assertRaisesRegex(ir.InsnsError, "3 marks .* 2 batches"):
            ir.pair("k", [(0, "a", 1), (0, "b", 1)], marks, [{}] * 3)
        with self.assertRaises(ir.InsnsError):
            ir.pair("k", [(0, "a", 1)], [(0, 0, 0, 0)] * 4, [{}] * 4)

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
            ir.pair("k", [(0, "a", 1)], [(5, 5, 0, 0), (4, 6, 0, 0)], [{}, {}])

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


class Formatting(unittest.TestCase):
    def test_one_decimal_and_ratios(self):
        self.assertEqual(ir.fmt(1234.56), "1234.6")
        self.assertEqual(ir.fmt_ratio(105.0, 100.0), "1.050")
        self.assertEqual(ir.fmt_ratio(1.0, 0.0), "")
        self.assertEqual(ir.fmt_diff(1.02, 1.0), "0.0")
        self.assertEqual(ir.fmt_diff(0.0, 1.0), "-1.0")


if __name__ == "__main__":
    unittest.main()
