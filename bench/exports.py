"""Benchmark: write the violation log as PDF, XLSX and CSV for N rows.

The rows are made in memory (no database): what this measures is the writers, which is
what chose ``exports.PDF_MAX_ROWS`` (reportlab lays out a long table in more than linear
time) and what keeps the spreadsheets of a year's log bounded. Each size runs in a process
of its own, so that the peak memory printed is that writer's.

    python -m bench.exports                                 # PDF 500-4,000; XLSX, CSV 71,439
    python -m bench.exports --format pdf --sizes 1000 2000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

from attendance import exports
from attendance.config import load_config
from attendance.evaluation import EmployeeRow, UnitRow
from attendance.reports import LATE, Violation
from attendance.rules import ExcuseRef

DEFAULT_SIZES = {"pdf": [500, 1_000, 2_000, 4_000], "xlsx": [71_439], "csv": [71_439]}


def violations(n: int) -> list[Violation]:
    """``n`` late arrivals of 300 employees of one unit, one in five excused."""
    unit = UnitRow(1, "SNV-VP", "Văn phòng Sở Nội vụ", None, None)
    people = [EmployeeRow(i, f"NV{i:06d}", "Nguyễn Thị Minh Khai", 1, "Chuyên viên", "CC",
                          "default", None, None) for i in range(300)]
    excuse = ExcuseRef("full", "leave", "Trần Ngọc Hà", "Đồng ý", 5, "Nghỉ phép về quê")
    at = datetime(2026, 1, 1, 0, 42, tzinfo=UTC)
    return [Violation(date(2026, 1, 1) + timedelta(days=i % 300), people[i % 300], unit, LATE,
                      0, 12, at, "scan", (excuse,) if i % 5 == 0 else ()) for i in range(n)]


def run_one(fmt: str, n: int) -> None:
    config = load_config()
    rows = violations(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if fmt == "pdf":
        data = exports.violations_pdf(rows, config, first=date(2026, 1, 1),
                                      last=date(2026, 11, 23))
    elif fmt == "xlsx":
        data = exports.violations_xlsx(rows, config)
    else:
        data = exports.violations_csv(rows, config)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{fmt:>5} {n:>8,} {seconds:>8.2f} {n / seconds:>8,.0f} {len(data) / 1e6:>8.1f} "
          f"{before / 1024:>9.0f} {peak / 1024:>9.0f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=sorted(DEFAULT_SIZES), nargs="+",
                        default=["pdf", "xlsx", "csv"])
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        run_one(args.format[0], args.sizes[0])
        return
    print(f"{'fmt':>5} {'rows':>8} {'s':>8} {'rows/s':>8} {'MB out':>8} {'RSS MB':>9} "
          f"{'peak MB':>9}")
    for fmt in args.format:
        for n in args.sizes or DEFAULT_SIZES[fmt]:
            subprocess.run([sys.executable, "-m", "bench.exports", "--one", "--format", fmt,
                            "--sizes", str(n)], check=True)


if __name__ == "__main__":
    main()
