"""``attendance serve`` (the web service) and ``attendance scheduler`` (the scheduler alone).

``serve`` runs the Flask app under gunicorn (``--workers``, default two per CPU core, each
with ``--threads``, default 2). The scheduler must run in exactly one process, never inside
gunicorn workers: unless ``--no-scheduler`` is given, ``serve`` starts it beside the web
workers once it exists.
"""

from __future__ import annotations

import logging
import os

import click

from attendance.cli.context import AppContext, UserError, pass_app

log = logging.getLogger("attendance.serve")

# Two processes per core, two threads each: the threads overlap one request's database
# round trips and fsyncs with another's Python; more threads per process made them wait
# for each other's GIL (on SQLite while holding the write lock). docs/benchmarks.md § 1.
DEFAULT_WORKERS = min(64, 2 * (os.cpu_count() or 1))
DEFAULT_THREADS = 2

SCHEDULER_MISSING = "Bộ lập lịch chưa có trong phiên bản này (the scheduler is not available yet)."


def _start_scheduler_beside(app: AppContext) -> None:
    """Hook for the scheduler: start it in this process, beside the web workers."""
    try:
        from attendance import jobs  # noqa: F401 - built by the scheduler issue
    except ImportError:
        click.echo(SCHEDULER_MISSING, err=True)
        return
    start = getattr(jobs, "start_background_scheduler", None)
    if start is None:
        click.echo(SCHEDULER_MISSING, err=True)
        return
    if start(app.config, app.session_factory) is None:
        click.echo("Cơ sở dữ liệu không phải SQLite: bộ lập lịch không chạy kèm dịch vụ web; "
                   "hãy chạy `attendance scheduler` thành một tiến trình riêng.", err=True)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Địa chỉ lắng nghe (address to listen on).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True,
              type=click.IntRange(1, 64),
              help="Số tiến trình gunicorn, mặc định 2 × số lõi CPU (worker processes).")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 64),
              help="Số luồng mỗi tiến trình (threads per worker; gthread).")
@click.option("--no-scheduler", is_flag=True, help="Không chạy bộ lập lịch trong tiến trình này.")
@click.option("--demo-station", is_flag=True,
              help="Chạy thêm một điểm quét thẻ mẫu đọc video thẻ thật (demo station).")
@pass_app
def serve(app: AppContext, host: str, port: int, workers: int, threads: int, no_scheduler: bool,
          demo_station: bool) -> None:
    """Chạy dịch vụ web và, trừ khi có --no-scheduler, bộ lập lịch (run the web service)."""
    from gunicorn.app.base import BaseApplication

    from web import create_app

    config = app.config  # validate the config before anything starts
    flask_app = create_app({"DOMAIN_CONFIG": config})
    engine = flask_app.extensions["attendance"]["engine"]
    if demo_station:
        from scanner import demo as demo_scanner

        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        try:
            demo_scanner.start(app.session_factory, config, f"http://{local}:{port}")
        except LookupError as exc:
            click.echo(f"--demo-station: {exc}", err=True)
    if not no_scheduler:
        _start_scheduler_beside(app)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")  # see DEFAULT_WORKERS
            self.cfg.set("threads", threads)
            self.cfg.set("proc_name", "attendance-web")
            self.cfg.set("accesslog", "-")
            # Connections must not be shared across fork: each worker opens its own.
            self.cfg.set("post_fork", lambda _server, _worker: engine.dispose(close=False))

        def load(self):
            return flask_app

    click.echo(f"Chấm công và kiểm tra đeo thẻ: http://{host}:{port}/", err=True)
    Server().run()


@click.command("scheduler")
@pass_app
def scheduler(app: AppContext) -> None:
    """Chạy riêng bộ lập lịch báo cáo, thành một tiến trình (run the scheduler alone)."""
    app.config
    try:
        from attendance import jobs
    except ImportError:
        jobs = None
    run = getattr(jobs, "run_scheduler", None) if jobs else None
    if run is None:
        raise UserError(SCHEDULER_MISSING)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run(app.config, app.session_factory)
