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



def bench_rounds(kernel, bench, mode, cpus, metric, values):
    """rounds.csv lines of one point, one value per round, as dupclose_rounds."""
    return [f"{kernel},{bench},{mode},{cpus},{metric},{v},0" for v in values]


def aggregated(rounds):
    """results.csv's lines (without header) that aggregate() makes of rounds."""
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "r.csv"), os.path.join(d, "o.csv")
        write(src, rounds)
        report.aggregate(src, dst)
        with open(dst) as f:
            return f.read().splitlines()[1:]


def section(text, title):
    """The summary's section "## title", up to the next one; None if absent."""
    head = f"\n## {title}\n"
    if head not in text:
        return None
    return text.split(head, 1)[1].split("\n## ", 1)[0]


NULLCALL = "Null call round trip (nullcall)"
NULLCALL_IDLE = "Idle kernel core (nullcall kcore-idle)"
DUPCLOSE_KCORE = "dup/close through a kernel core (dupclose)"
SHMUPDATE = "Shared-state updates (shmupdate)"


class NullCall(unittest.TestCase):
    # Two rounds on corey.  At 2 CPUs: kcore 700 and 640 ns against uring
    # 1000 and 800 (0.7 and 0.8) and syscall 500 and 400 (1.4 and 1.6).  At
    # 1 CPU no uring: kcore is 4 times syscall in both rounds.
    ROUNDS = (bench_rounds("corey", "nullcall", "syscall", 1, "ns_per_op", [500, 400])
              + bench_rounds("corey", "nullcall", "kcore", 1, "ns_per_op", [2000, 1600])
              + bench_rounds("corey", "nullcall", "syscall", 2, "ns_per_op", [500, 400])
              + bench_rounds("corey", "nullcall", "uring", 2, "ns_per_op", [1000, 800])
              + bench_rounds("corey", "nullcall", "kcore", 2, "ns_per_op", [700, 640])
              + bench_rounds("corey", "nullcall", "uring", 2, "wake_ns", [100000, 120000])
              + bench_rounds("corey", "nullcall", "kcore", 2, "wake_ns", [107000, 107000]))

    def text(self):
        return summarize(aggregated(self.ROUNDS), self.ROUNDS)

    def test_header_has_ratio_and_wake_columns(self):
        sec = section(self.text(), NULLCALL)
        self.assertIsNotNone(sec)
        self.assertIn("| kernel | CPUs | syscall ns | uring ns | kcore ns | kcore / uring "
                      "| kcore / syscall | uring wake ns | kcore wake ns |\n", sec)

    def test_ratios_per_round(self):
        row = table_row(section(self.text(), NULLCALL), "corey", "2")
        # Medians 450, 900 and 670 with their spreads; ratios median (min-max)
        # of 700/1000, 640/800 and of 700/500, 640/400; wake medians.
        self.assertEqual(row, "| corey | 2 | 450 (22%) | 900 (22%) | 670 (9%) "
                              "| 0.750 (0.700-0.800) | 1.500 (1.400-1.600) "
                              "| 110,000 (18%) | 107,000 (0%) |")

    def test_missing_modes_are_dashes(self):
        row = table_row(section(self.text(), NULLCALL), "corey", "1")
        self.assertEqual(row, "| corey | 1 | 450 (22%) | - | 1,800 (22%) "
                              "| - | 4.000 (4.000-4.000) | - | - |")

    def test_without_rounds_ratio_of_medians(self):
        text = summarize(aggregated(self.ROUNDS))
        row = table_row(section(text, NULLCALL), "corey", "2")
        self.assertIn("| 0.744 | 1.489 |", row)  # 670 / 900, 670 / 450

    def test_kernels_do_not_pair_rounds(self):
        rounds = (bench_rounds("stock", "nullcall", "syscall", 2, "ns_per_op", [500, 400])
                  + bench_rounds("corey", "nullcall", "kcore", 2, "ns_per_op", [700, 640]))
        sec = section(summarize(aggregated(rounds), rounds), NULLCALL)
        # stock has no kcore, corey no syscall: nothing to divide.
        self.assertEqual(table_row(sec, "corey", "2"),
                         "| corey | 2 | - | - | 670 (9%) | - | - | - | - |")
        self.assertEqual(table_row(sec, "stock", "2"),
                         "| stock | 2 | 450 (22%) | - | - | - | - | - | - |")

    def test_no_nullcall_no_section(self):
        text = summarize(dupclose_rounds("corey", "threads", 1, [100]))
        self.assertNotIn("Null call", text)
        self.assertNotIn("Idle kernel core", text)

    def test_idle_rows_alone_make_no_round_trip_table(self):
        rows = ["corey,nullcall,kcore-idle,2,idle_ticks_per_s,0,0",
                "corey,nullcall,kcore-idle,2,busy_ticks_per_s,100,0"]
        text = summarize(rows)
        self.assertIsNone(section(text, NULLCALL))
        self.assertIsNotNone(section(text, NULLCALL_IDLE))


class NullCallIdle(unittest.TestCase):
    ROWS = ["corey,nullcall,kcore-idle,2,busy_cpu_share,0.98,0.01",
            "corey,nullcall,kcore-idle,2,busy_ticks_per_s,99,0",
            "corey,nullcall,kcore-idle,2,idle_cpu_share,0,0",
            "corey,nullcall,kcore-idle,2,idle_ticks_per_s,0,0",
            "corey-debug,nullcall,kcore-idle,2,busy_cpu_share,1,0",
            "corey-debug,nullcall,kcore-idle,2,busy_ticks_per_s,100,0",
            "corey-debug,nullcall,kcore-idle,2,idle_cpu_share,0.0004,0.5",
            "corey-debug,nullcall,kcore-idle,2,idle_ticks_per_s,0.2,0.5",
            "corey,nullcall,kcore,2,ns_per_op,702.0,0.05"]

    def test_header(self):
        sec = section(summarize(self.ROWS), NULLCALL_IDLE)
        self.assertIn("| kernel | CPUs | busy_cpu_share | busy_ticks_per_s | idle_cpu_share "
                      "| idle_ticks_per_s | goal (idle: 0 ticks) |\n", sec)

    def test_zero_idle_ticks_meets_the_goal(self):
        sec = section(summarize(self.ROWS), NULLCALL_IDLE)
        self.assertEqual(table_row(sec, "corey", "2"),
                         "| corey | 2 | 0.98 (1%) | 99 (0%) | 0 (0%) | 0 (0%) | met |")

    def test_any_idle_tick_misses_the_goal(self):
        sec = section(summarize(self.ROWS), NULLCALL_IDLE)
        self.assertEqual(table_row(sec, "corey-debug", "2"),
                         "| corey-debug | 2 | 1 (0%) | 100 (0%) | 0.0004 (50%) "
                         "| 0.2 (50%) | not met |")

    def test_goal_is_judged_in_every_round(self):
        rounds = (bench_rounds("corey", "nullcall", "kcore-idle", 2, "idle_ticks_per_s", [0, 0])
                  + bench_rounds("corey", "nullcall", "kcore-idle", 4, "idle_ticks_per_s", [0, 2])
                  + bench_rounds("corey", "nullcall", "kcore-idle", 8, "idle_ticks_per_s", [0, 0, 3]))
        sec = section(summarize(aggregated(rounds), rounds), NULLCALL_IDLE)
        self.assertTrue(table_row(sec, "corey", "2").endswith("| 0 (0%) | met |"))
        # Median 1 tick/s over the two rounds; one of them ticked.
        self.assertTrue(table_row(sec, "corey", "4").endswith(
            "| 1 (200%) | not met (1/2 rounds ticked) |"))
        # A median of 0 must not hide the round that ticked.
        self.assertTrue(table_row(sec, "corey", "8").endswith(
            "| not met (1/3 rounds ticked) |"))

    def test_missing_idle_ticks_has_no_verdict(self):
        sec = section(summarize(["corey,nullcall,kcore-idle,2,busy_cpu_share,1,0"]),
                      NULLCALL_IDLE)
        self.assertEqual(table_row(sec, "corey", "2"), "| corey | 2 | 1 (0%) | - | - | - | - |")

    def test_idle_metrics_are_not_round_trips(self):
        # kcore-idle's CPUs make no row in the round trip table.
        sec = section(summarize(self.ROWS), NULLCALL)
        self.assertIsNotNone(table_row(sec, "corey", "2"))
        self.assertIsNone(table_row(sec, "corey-debug"))


class DupcloseKcore(unittest.TestCase):
    # Two rounds on corey.  kcore is half then 0.6 of threads at 1 CPU and
    # 0.5 then 0.4 at 2; kcore-batch 1.5 then 1.3 at 1 CPU and twice threads
    # at 2.  uring, at 1 CPU only, runs at the threads' rate.
    ROUNDS = (dupclose_rounds("corey", "threads", 1, [100, 200])
              + dupclose_rounds("corey", "threads", 2, [180, 400])
              + dupclose_rounds("corey", "uring", 1, [100, 200])
              + dupclose_rounds("corey", "kcore", 1, [50, 120])
              + dupclose_rounds("corey", "kcore", 2, [90, 160])
              + dupclose_rounds("corey", "kcore-batch", 1, [150, 260])
              + dupclose_rounds("corey", "kcore-batch", 2, [360, 800])
              + dupclose_rounds("stock", "threads", 1, [100, 100])
              + dupclose_rounds("stock", "uring", 1, [100, 100]))

    def section(self, rounds=None):
        rounds = rounds or self.ROUNDS
        return section(summarize(aggregated(rounds), rounds), DUPCLOSE_KCORE)

    def test_header_per_cpu_count(self):
        self.assertIn("| kernel | ratio | 1 CPU | 2 CPUs |\n", self.section())

    def test_kcore_against_threads_per_round(self):
        self.assertEqual(table_row(self.section(), "corey", "kcore / threads"),
                         "| corey | kcore / threads | 0.550 (0.500-0.600) | 0.450 (0.400-0.500) |")

    def test_kcore_batch_against_threads_per_round(self):
        self.assertEqual(table_row(self.section(), "corey", "kcore-batch / threads"),
                         "| corey | kcore-batch / threads | 1.400 (1.300-1.500) "
                         "| 2.000 (2.000-2.000) |")

    def test_against_uring_where_it_ran(self):
        sec = self.section()
        self.assertEqual(table_row(sec, "corey", "kcore / uring"),
                         "| corey | kcore / uring | 0.550 (0.500-0.600) | - |")
        self.assertEqual(table_row(sec, "corey", "kcore-batch / uring"),
                         "| corey | kcore-batch / uring | 1.400 (1.300-1.500) | - |")

    def test_row_order(self):
        labels = [line.split(" | ")[1] for line in self.section().splitlines()
                  if line.startswith("| corey |")]
        self.assertEqual(labels, ["kcore / threads", "kcore / uring",
                                  "kcore-batch / threads", "kcore-batch / uring"])

    def test_no_uring_no_uring_rows(self):
        rounds = [r for r in self.ROUNDS if ",uring," not in r]
        sec = self.section(rounds)
        self.assertIsNotNone(table_row(sec, "corey", "kcore / threads"))
        self.assertIsNotNone(table_row(sec, "corey", "kcore-batch / threads"))
        self.assertNotIn("/ uring", sec)

    def test_batch_alone(self):
        rounds = [r for r in self.ROUNDS if ",kcore," not in r]
        sec = self.section(rounds)
        self.assertIsNone(table_row(sec, "corey", "kcore / threads"))
        self.assertIsNotNone(table_row(sec, "corey", "kcore-batch / threads"))

    def test_kernel_without_kcore_has_no_rows(self):
        self.assertIsNone(table_row(self.section(), "stock"))

    def test_no_kcore_no_section(self):
        rounds = [r for r in self.ROUNDS if ",kcore" not in r]
        text = summarize(aggregated(rounds), rounds)
        self.assertNotIn("through a kernel core", text)


class ShmUpdate(unittest.TestCase):
    # Two rounds on corey.  8 lines, 1 worker: kcore twice direct and half
    # pwrite in both rounds; 8 lines, 2 workers: direct only.  16 lines,
    # 1 worker: kcore 1.5 times direct and 0.6 times pwrite.
    M8, M16 = "ns_per_update:8lines", "ns_per_update:16lines"
    ROUNDS = (bench_rounds("corey", "shmupdate", "direct", 1, M8, [100, 120])
              + bench_rounds("corey", "shmupdate", "pwrite", 1, M8, [400, 480])
              + bench_rounds("corey", "shmupdate", "kcore", 1, M8, [200, 240])
              + bench_rounds("corey", "shmupdate", "direct", 2, M8, [150, 150])
              + bench_rounds("corey", "shmupdate", "direct", 1, M16, [200, 220])
              + bench_rounds("corey", "shmupdate", "pwrite", 1, M16, [500, 550])
              + bench_rounds("corey", "shmupdate", "kcore", 1, M16, [300, 330]))

    def text(self):
        return summarize(aggregated(self.ROUNDS), self.ROUNDS)

    def test_header(self):
        self.assertIn("| kernel | lines | workers | direct ns | pwrite ns | kcore ns "
                      "| kcore / direct | kcore / pwrite |\n", section(self.text(), SHMUPDATE))

    def test_row_per_line_count_and_workers(self):
        sec = section(self.text(), SHMUPDATE)
        self.assertEqual(table_row(sec, "corey", "8", "1"),
                         "| corey | 8 | 1 | 110 (18%) | 440 (18%) | 220 (18%) "
                         "| 2.000 (2.000-2.000) | 0.500 (0.500-0.500) |")
        self.assertEqual(table_row(sec, "corey", "16", "1"),
                         "| corey | 16 | 1 | 210 (10%) | 525 (10%) | 315 (10%) "
                         "| 1.500 (1.500-1.500) | 0.600 (0.600-0.600) |")
        self.assertEqual(table_row(sec, "corey", "8", "2"),
                         "| corey | 8 | 2 | 150 (0%) | - | - | - | - |")

    def test_line_counts_sort_as_numbers(self):
        rows = [line for line in section(self.text(), SHMUPDATE).splitlines()
                if line.startswith("| corey |")]
        self.assertEqual([r.split(" | ")[1:3] for r in rows],
                         [["8", "1"], ["8", "2"], ["16", "1"]])

    def test_efficiency_is_a_time_per_worker(self):
        row = table_row(self.text(), "corey", "shmupdate", "direct", self.M8)
        # 100/150 and 120/150 within the rounds.
        self.assertTrue(row.endswith("| 0.73 (0.67-0.80) |"), row)

    def test_metric_without_line_count_makes_no_section(self):
        text = summarize(["corey,shmupdate,direct,1,ns_per_update,100,0",
                          "corey,shmupdate,direct,1,ns_per_update:xlines,100,0"])
        self.assertIsNone(section(text, SHMUPDATE))

    def test_no_shmupdate_no_section(self):
        self.assertIsNone(section(summarize(dupclose_rounds("corey", "threads", 1, [100])),
                                  SHMUPDATE))

    def test_shm_lines(self):
        self.assertEqual(report.shm_lines("ns_per_update:8lines"), 8)
        self.assertEqual(report.shm_lines("ns_per_update:16lines"), 16)
        for garbage in ("ns_per_update", "ns_per_update:", "ns_per_update:lines",
                        "ns_per_update:8", "ns_per_update:xlines", "ns_per_update:-1lines",
                        "ns_per_update:8 lines", "ns_per_op", "ops_per_sec:8lines",
                        "bounces_per_op:8lines"):
            self.assertIsNone(report.shm_lines(garbage), garbage)

    # str.isdigit() accepts digits int() refuses ("²").
    def test_shm_lines_superscript_digit_is_garbage(self):
        self.assertIsNone(report.shm_lines("ns_per_update:\u00b2lines"))


if __name__ == "__main__":
    unittest.main()


MEMPASS_AR = "Address ranges: mempass"
SCALING_AR = "Address ranges: memclone and pfchurn scaling"


def mempass_rounds(kernel, mode, cpus, seconds, faults, worst=None):
    """rounds.csv lines of one mempass point: its time and fault counts."""
    lines = bench_rounds(kernel, "mempass", mode, cpus, "seconds", seconds)
    lines += bench_rounds(kernel, "mempass", mode, cpus, "minflt_per_page", faults)
    if worst is not None:
        lines += bench_rounds(kernel, "mempass", mode, cpus, "minflt_per_page_worst", worst)
    return lines


class MempassAr(unittest.TestCase):
    # Two rounds at 2 CPUs.  corey: 1.1 and 1.3 of threads-shm's time, no
    # fault.  corey-bad: 1.5 of threads-shm, and one worker faulted in the
    # second round although the median of the worst is 0 over three rounds.
    ROUNDS = (mempass_rounds("corey", "threads", 2, [1.0, 2.0], [0, 0])
              + mempass_rounds("corey", "threads-shm", 2, [1.0, 2.0], [0, 0])
              + mempass_rounds("corey", "processes", 2, [3.0, 5.0], [1, 1], [1, 1])
              + mempass_rounds("corey", "corey", 2, [1.1, 2.6], [0, 0], [0, 0])
              + mempass_rounds("corey-bad", "threads-shm", 2, [1.0, 1.0, 1.0], [0, 0, 0])
              + mempass_rounds("corey-bad", "corey", 2, [1.5, 1.5, 1.5],
                               [0, 0.0001, 0], [0, 0.004, 0])
              + mempass_rounds("stock", "threads", 2, [1.0, 1.0], [0, 0])
              + mempass_rounds("stock", "threads-shm", 2, [1.1, 1.1], [0, 0])
              + mempass_rounds("stock", "processes", 2, [3.0, 3.0], [1, 1], [1, 1]))

    def section(self):
        return section(summarize(aggregated(self.ROUNDS), self.ROUNDS), MEMPASS_AR)

    def test_header(self):
        self.assertIn("| kernel | CPUs | threads faults/page | threads-shm faults/page "
                      "| processes faults/page | corey faults/page | corey worst "
                      "| goal (0 faults) | corey / threads-shm (time) | goal (<= 1.2) "
                      "| processes / threads | threads-shm / threads |\n", self.section())

    def test_goals_met(self):
        self.assertEqual(table_row(self.section(), "corey", "2"),
                         "| corey | 2 | 0.000 | 0.000 | 1.000 | 0.000 | 0.000 | met "
                         "| 1.200 (1.100-1.300) | met in 1/2 rounds "
                         "| 2.750 (2.500-3.000) | 1.000 (1.000-1.000) |")

    def test_a_round_with_a_fault_and_a_slow_time_fail(self):
        row = table_row(self.section(), "corey-bad", "2")
        # The medians say 0; the round that faulted says otherwise.
        self.assertIn("| 0.000 | 0.000 | not met (1/3 rounds faulted) "
                      "| 1.500 (1.500-1.500) | met in 0/3 rounds |", row)

    def test_stock_has_no_corey_and_no_verdict(self):
        self.assertEqual(table_row(self.section(), "stock", "2"),
                         "| stock | 2 | 0.000 | 0.000 | 1.000 | - | - | - | - | - "
                         "| 3.000 (3.000-3.000) | 1.100 (1.100-1.100) |")

    def test_without_rounds_one_value_decides(self):
        sec = section(summarize(["corey,mempass,threads-shm,2,seconds,1.0,0",
                                 "corey,mempass,corey,2,seconds,1.3,0",
                                 "corey,mempass,corey,2,minflt_per_page_worst,0.002,0"]),
                      MEMPASS_AR)
        self.assertIn("| 0.002 | not met | 1.300 | not met |", table_row(sec, "corey", "2"))

    def test_threads_and_processes_alone_make_no_section(self):
        rows = aggregated(mempass_rounds("stock", "threads", 2, [1.0], [0])
                          + mempass_rounds("stock", "processes", 2, [3.0], [1]))
        self.assertIsNone(section(summarize(rows), MEMPASS_AR))


def scaling_rounds(kernel, bench, mode, v1, v2):
    """rounds.csv lines of one line of memclone or pfchurn at 1 and 2 CPUs."""
    metric = dict(report.AR_SCALING)[bench]
    return (bench_rounds(kernel, bench, mode, 1, metric, v1)
            + bench_rounds(kernel, bench, mode, 2, metric, v2))


class ScalingAr(unittest.TestCase):
    # memclone (time per page, flat when perfect): corey 0.98 and 0.96,
    # threads 0.8.  pfchurn (pages/s): corey 0.97 and 0.80 in two rounds.
    ROUNDS = (scaling_rounds("corey", "memclone", "threads", [100, 100], [125, 125])
              + scaling_rounds("corey", "memclone", "corey", [98, 96], [100, 100])
              + scaling_rounds("corey", "pfchurn", "processes", [100, 100], [200, 200])
              + scaling_rounds("corey", "pfchurn", "corey", [100, 100], [194, 160])
              + scaling_rounds("stock", "pfchurn", "threads-shm", [100, 100], [180, 180]))

    def section(self):
        return section(summarize(aggregated(self.ROUNDS), self.ROUNDS), SCALING_AR)

    def test_header(self):
        self.assertIn("| kernel | benchmark | mode | eff@2 | goal at 2 CPUs (>= 0.95) |\n",
                      self.section())

    def test_corey_goal_met(self):
        self.assertEqual(table_row(self.section(), "corey", "memclone", "corey"),
                         "| corey | memclone | corey | 0.97 (0.96-0.98) | met in 2/2 rounds |")

    def test_corey_goal_failed_in_a_round(self):
        self.assertEqual(table_row(self.section(), "corey", "pfchurn", "corey"),
                         "| corey | pfchurn | corey | 0.89 (0.80-0.97) | met in 1/2 rounds |")

    def test_other_modes_are_shown_not_judged(self):
        sec = self.section()
        self.assertEqual(table_row(sec, "corey", "memclone", "threads"),
                         "| corey | memclone | threads | 0.80 (0.80-0.80) | - |")
        self.assertEqual(table_row(sec, "stock", "pfchurn", "threads-shm"),
                         "| stock | pfchurn | threads-shm | 0.90 (0.90-0.90) | - |")

    def test_without_rounds_one_value_decides(self):
        rows = ["corey,pfchurn,corey,1,pages_per_sec,100,0",
                "corey,pfchurn,corey,2,pages_per_sec,180,0"]
        self.assertEqual(table_row(section(summarize(rows), SCALING_AR), "corey", "pfchurn"),
                         "| corey | pfchurn | corey | 0.90 | not met |")

    def test_no_two_cpus_no_verdict(self):
        rows = ["corey,memclone,corey,1,ns_per_page,100,0"]
        self.assertEqual(table_row(section(summarize(rows), SCALING_AR), "corey"),
                         "| corey | memclone | corey | - |")

    def test_threads_and_processes_alone_make_no_section(self):
        rows = aggregated(scaling_rounds("stock", "memclone", "threads", [100], [110]))
        self.assertIsNone(section(summarize(rows), SCALING_AR))


class Fig7(unittest.TestCase):
    ROWS = report.load_rows(
        [f"corey,memclone,{m},{c},ns_per_page,{v},0.1" for m, v in
         (("threads", 10), ("threads-shm", 11), ("processes", 9), ("corey", 12))
         for c in (2, 1)]
        + ["corey,memclone,corey,1,minflt_per_page,1,0",
           "corey,mempass,threads,1,seconds,1.0,0",
           "corey,mempass,corey,1,seconds,1.1,0",
           "stock,memclone,threads,1,ns_per_page,10,0",
           "stock,memclone,processes,1,ns_per_page,9,0"])

    def test_three_lines_without_threads_shm(self):
        figs = report.fig7_series(self.ROWS)
        titles = [t for t, _ in figs[("fig7a", "corey")]]
        self.assertEqual(titles, ["Linux threads", "Linux processes",
                                  "Corey: cfork + address ranges"])
        self.assertEqual(figs[("fig7a", "corey")][2][1], [(1, 12.0, 0.1), (2, 12.0, 0.1)])

    def test_only_kernels_that_ran_corey(self):
        figs = report.fig7_series(self.ROWS)
        self.assertEqual(sorted(figs), [("fig7a", "corey"), ("fig7b", "corey")])

    def test_missing_line_is_left_out(self):
        titles = [t for t, _ in report.fig7_series(self.ROWS)[("fig7b", "corey")]]
        self.assertEqual(titles, ["Linux threads", "Corey: cfork + address ranges"])
