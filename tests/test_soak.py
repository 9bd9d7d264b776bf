"""Soak with faults, short form: a morning peak through 20 real station outboxes while the
service under gunicorn is killed with SIGKILL twice (and, with CI_SOAK_PG_RESTART=1 on
PostgreSQL, the database server is restarted): every scan a station recorded ends up
stored exactly once. The long form is ``python -m bench.soak`` (see docs/benchmarks.md).
"""

from __future__ import annotations

import os

import pytest

from bench.soak import run_soak

pytestmark = pytest.mark.slow


def test_morning_peak_with_service_killed_loses_and_duplicates_nothing(database_url, tmp_path):
    pg_restarts = int(database_url.startswith("postgresql")
                      and os.environ.get("CI_SOAK_PG_RESTART") == "1")
    result = run_soak(database_url, tmp_path, staff=1500, window=20, kills=2,
                      pg_restarts=pg_restarts, drain_timeout=120, report=lambda _text: None)

    assert result["drained"], result
    assert result["still_queued"] == 0 and result["dead_letters"] == 0
    assert result["scans_created"] > 1500  # some staff tap twice
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["unexpected"] == 0
    assert result["stored_rows"] == result["scans_created"]
    assert result["rejected_rows"] > 0  # forged codes are recorded too, once
    assert result["chain_broken"] is None
    assert len(result["faults"]) == 2 * 2 + pg_restarts  # each kill: down, then back
