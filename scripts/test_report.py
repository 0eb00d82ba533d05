#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host tests of report.py: the numbers the README quotes come from here."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

HEADER = "kernel,benchmark,mode,cpus,metric,value,spread\n"


def write(path, rows):
    with open(path, "w") as f:
        f.write(HEADER)
        for r in rows:
            f.write(r + "\n")


class Efficiency(unittest.TestCase):
    def test_throughput_perfect_and_flat(self):
        self.assertAlmostEqual(report.efficiency("ops_per_sec", 2, 100, 200), 1.0)
        self.assertAlmostEqual(report.efficiency("ops_per_sec", 2, 100, 100), 0.5)

    def test_time_per_worker_is_flat_when_perfect(self):
        self.assertAlmostEqual(report.efficiency("ns_per_page", 4, 10, 10), 1.0)
        self.assertAlmostEqual(report.efficiency("ns_per_page", 4, 10, 20), 0.5)

    def test_serial_time_grows_with_n_when_perfect(self):
        self.assertAlmostEqual(report.efficiency("seconds", 3, 1.0, 3.0), 1.0)

    def test_counts_have_no_efficiency(self):
        self.assertIsNone(report.efficiency("minflt_per_page", 2, 1, 1))

    def test_zero_is_not_divided(self):
        self.assertIsNone(report.efficiency("ops_per_sec", 2, 0, 5))


class Aggregate(unittest.TestCase):
    def test_median_and_spread_across_rounds(self):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "r.csv"), os.path.join(d, "o.csv")
            write(src, ["stock,dupclose,threads,1,ops_per_sec,100,0.1",
                        "stock,dupclose,threads,1,ops_per_sec,300,0.1",
                        "stock,dupclose,threads,1,ops_per_sec,200,0.1"])
            report.aggregate(src, dst)
            rows = report.load(dst)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][5], 200.0)
        self.assertAlmostEqual(rows[0][6], 1.0)  # (300 - 100) / 200

    def test_one_round_keeps_its_own_spread(self):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "r.csv"), os.path.join(d, "o.csv")
            write(src, ["stock,pfchurn,threads,2,pages_per_sec,1984253.5,0.25"])
            report.aggregate(src, dst)
            with open(dst) as f:
                text = f.read()
            rows = report.load(dst)
        self.assertNotIn("e+", text)  # no exponent notation in the CSV
        self.assertAlmostEqual(rows[0][6], 0.25)

    def test_bad_header_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "r.csv")
            with open(src, "w") as f:
                f.write("kernel,value\nstock,1\n")
            with self.assertRaises(SystemExit):
                report.load(src)


class PerRound(unittest.TestCase):
    def test_efficiency_pairs_points_of_the_same_round(self):
        # Round 1 ran in a slow phase, round 2 in a fast one: both scale
        # perfectly, which only per-round pairing can see.
        rounds = report.load_rows([
            "stock,dupclose,processes,1,ops_per_sec,100,0",
            "stock,dupclose,processes,2,ops_per_sec,200,0",
            "stock,dupclose,processes,1,ops_per_sec,300,0",
            "stock,dupclose,processes,2,ops_per_sec,600,0",
        ])
        effs = report.round_efficiencies(rounds)
        self.assertEqual(effs[("stock", "dupclose", "processes", "ops_per_sec")][2], [1.0, 1.0])


def dupclose_rounds(kernel, mode, cpus, values):
    return [f"{kernel},dupclose,{mode},{cpus},ops_per_sec,{v},0" for v in values]


def summarize(rows, rounds=None, skipped=None):
    """summary.md's text for rows given as CSV lines without header."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "summary.md")
        report.summary(report.load_rows(rows), out,
                       report.load_rows(rounds) if rounds else None, skipped)
        with open(out) as f:
            return f.read()


def table_row(text, *cells):
    """The summary's table line starting with these cells, or None."""
    start = "| " + " | ".join(cells) + " |"
    return next((line for line in text.splitlines() if line.startswith(start)), None)


class RoundRatios(unittest.TestCase):
    def test_pairs_rounds_of_one_boot(self):
        seen = report.round_series(report.load_rows(
            dupclose_rounds("corey", "shares", 1, [90, 300])
            + dupclose_rounds("corey", "threads", 1, [100, 300])))
        self.assertEqual(report.round_ratios(seen, ("corey", "dupclose", "shares", "ops_per_sec", 1),
                                             ("corey", "dupclose", "threads", "ops_per_sec", 1)),
                         [0.9, 1.0])

    def test_points_of_different_rounds_do_not_pair(self):
        seen = report.round_series(report.load_rows(
            dupclose_rounds("corey", "shares", 1, [90])
            + dupclose_rounds("corey", "threads", 1, [100, 300])))
        self.assertIsNone(report.round_ratios(seen, ("corey", "dupclose", "shares", "ops_per_sec", 1),
                                              ("corey", "dupclose", "threads", "ops_per_sec", 1)))


class SharesTables(unittest.TestCase):
    # Two rounds on corey: shares 0.98 and 0.95 of threads at 1 CPU, and
    # twice as fast as io_uring (half the time per op).
    ROUNDS = (dupclose_rounds("corey", "threads", 1, [100, 200])
              + dupclose_rounds("corey", "threads", 2, [100, 200])
              + dupclose_rounds("corey", "shares", 1, [98, 190])
              + dupclose_rounds("corey", "shares", 2, [196, 380])
              + dupclose_rounds("corey", "uring", 1, [49, 95])
              + dupclose_rounds("stock", "threads", 1, [100, 100]))

    def rows(self):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "r.csv"), os.path.join(d, "o.csv")
            write(src, self.ROUNDS)
            report.aggregate(src, dst)
            with open(dst) as f:
                return f.read().splitlines()[1:]

    def test_new_modes_get_scaling_efficiency(self):
        text = summarize(self.rows(), self.ROUNDS)
        row = table_row(text, "corey", "dupclose", "shares", "ops_per_sec")
        self.assertIsNotNone(row)
        self.assertTrue(row.endswith("| 1.00 (1.00-1.00) |"), row)

    def test_shares_against_threads_per_round(self):
        text = summarize(self.rows(), self.ROUNDS)
        self.assertIn("## Shares against threads", text)
        row = table_row(text, "corey", "shares / threads")
        # Median of 0.98 and 0.95; the 0.97 goal is met in one round.
        self.assertIn("| 0.965 (0.950-0.980) |", row)
        self.assertTrue(row.endswith("| met in 1/2 rounds |"), row)

    def test_shares_against_stock_threads_uses_medians(self):
        text = summarize(self.rows(), self.ROUNDS)
        row = table_row(text, "corey", "shares / stock threads")
        # Medians 144 / 100 at 1 CPU: one value, no rounds to pair.
        self.assertIn("| 1.440 |", row)
        self.assertTrue(row.endswith("| met |"), row)

    def test_shares_against_uring_is_time_per_op(self):
        text = summarize(self.rows(), self.ROUNDS)
        section = text.split("## Shares against io_uring, 1 CPU, per op")[1]
        row = table_row(section, "corey")
        # Time per op is 10^9 / rate (medians 150, 72 and 144); the ratio is
        # uring / shares rates within each round: 49/98 and 95/190.
        self.assertTrue(row.startswith("| corey | 6,666,667 | 13,888,889 | 6,944,444 | - |"), row)
        self.assertTrue(row.endswith("| 0.500 (0.500-0.500) | met in 2/2 rounds |"), row)

    def test_no_shares_no_tables(self):
        rows = dupclose_rounds("stock", "threads", 1, [100])
        text = summarize(rows)
        self.assertNotIn("Shares against", text)

    def test_against_stock_covers_the_stock_modes(self):
        text = summarize(self.rows(), self.ROUNDS)
        section = text.split("## Against stock")[1]
        self.assertIsNotNone(table_row(section, "corey", "dupclose", "threads", "ops_per_sec"))


class LockBounces(unittest.TestCase):
    ROWS = [
        "corey-debug,dupclose,threads,1,file_lock_bounces_per_op,0,0",
        "corey-debug,dupclose,threads,2,file_lock_bounces_per_op,1.91,0",
        "corey-debug,dupclose,threads,2,bounces_per_op:&newf->file_lock,1.91,0",
        "corey-debug,dupclose,shares,1,file_lock_bounces_per_op,0,0",
        "corey-debug,dupclose,shares,2,file_lock_bounces_per_op,0,0",
        "corey-debug,dupclose,shares,2,bounces_per_op:&rq->__lock,0.00001,0",
    ]

    def test_table_lists_classes_that_bounce_per_op(self):
        text = summarize(self.ROWS)
        self.assertIn("## Lock bounces per operation", text)
        self.assertEqual(table_row(text, "corey-debug", "dupclose", "shares",
                                   "file_lock, all tables"),
                         "| corey-debug | dupclose | shares | file_lock, all tables | 0 | 0 |")
        # Absent at 1 CPU, where the run happened: no bounce there.
        self.assertEqual(table_row(text, "corey-debug", "dupclose", "threads",
                                   "`&newf->file_lock`"),
                         "| corey-debug | dupclose | threads | `&newf->file_lock` | 0 | 1.9100 |")

    def test_background_bounces_are_counted_not_listed(self):
        text = summarize(self.ROWS)
        self.assertNotIn("&rq->__lock", text)
        self.assertIn("1 other class bounced less", text)

    def test_lock_metrics_stay_out_of_the_main_table(self):
        main = summarize(self.ROWS).split("\n## ")[0]
        self.assertNotIn("bounces_per_op", main)


class Skipped(unittest.TestCase):
    def test_summary_names_skipped_modes(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "skipped.csv")
            with open(path, "w") as f:
                f.write("kernel,benchmark,mode,reason\n"
                        "stock,dupclose,shares,needs CONFIG_COREY_SHARES\n"
                        "stock,dupclose,shares,needs CONFIG_COREY_SHARES\n")
            skipped = report.load_skipped(path)
        text = summarize(dupclose_rounds("stock", "threads", 1, [100]), skipped=skipped)
        self.assertIn("## Skipped", text)
        self.assertEqual(text.count("| stock | dupclose | shares | needs CONFIG_COREY_SHARES |"), 1)

    def test_bad_header_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "skipped.csv")
            with open(path, "w") as f:
                f.write("kernel,mode\nstock,shares\n")
            with self.assertRaises(SystemExit):
                report.load_skipped(path)


if __name__ == "__main__":
    unittest.main()
