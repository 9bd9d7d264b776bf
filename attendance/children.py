"""Child processes that end with the process that started them (the scheduler and the demo
station beside ``attendance serve``)."""

from __future__ import annotations

import atexit
import os
import subprocess


def stop_at_exit(processes: list[subprocess.Popen]) -> None:
    """At this process's exit, terminate (then, after 10 s, kill) each of ``processes``,
    those appended later included. Not from a process forked from this one (a gunicorn
    worker exiting): the children are not its own."""
    owner = os.getpid()

    def stop() -> None:
        if os.getpid() != owner:
            return
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()

    atexit.register(stop)
