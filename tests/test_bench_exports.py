"""bench.exports still runs against the exporters it measures (a few rows, no timing)."""

from __future__ import annotations

import pytest

from bench import exports as bench


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv"])
def test_the_export_bench_writes_each_format(fmt, capsys):
    bench.run_one(fmt, 30)
    fields = capsys.readouterr().out.split()
    assert fields[:2] == [fmt, "30"] and len(fields) == 7
