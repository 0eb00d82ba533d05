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


if __name__ == "__main__":
    unittest.main()
