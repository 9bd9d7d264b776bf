"""``attendance serve`` (the web service) and ``attendance scheduler`` (the scheduler alone).

``serve`` runs the Flask app under gunicorn (``--workers``, default two per CPU core, each
with ``--threads``, default 2). The scheduler must run in exactly one process, never inside
gunicorn's processes: on SQLite, unless ``--no-scheduler`` is given, ``serve`` starts
``attendance scheduler`` beside them and stops it when it stops.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import signal
import socket
import subprocess
import sys

import click

from attendance.children import stop_at_exit
from attendance.cli.context import AppContext, UserError, pass_app


# Two processes per core, two threads each: the threads overlap one request's database
# round trips and fsyncs with another's Python; more threads per process made them wait
# for each other's GIL (on SQLite while holding the write lock). docs/benchmarks.md § 1.
DEFAULT_WORKERS = min(64, 2 * (os.cpu_count() or 1))
DEFAULT_THREADS = 2
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _spawn_scheduler(app: AppContext) -> None:
    """On SQLite, start ``attendance scheduler`` beside the web service, as a process of its
    own; with a database server, say that it runs on its own (one scheduler for all hosts).

    Not a thread of this process: this process becomes gunicorn's arbiter, which forks a
    worker at start and whenever one dies, and a SQLite connection must not be open across
    a fork (https://www.sqlite.org/howtocorrupt.html, 2.6). A job writing at the moment of a
    fork left that worker's SQLite believing the write lock taken for ever: every write in
    it waited out the busy timeout and failed with "database is locked".
    """
    if app.engine.dialect.name != "sqlite":
        click.echo("Cơ sở dữ liệu không phải SQLite: bộ lập lịch không chạy kèm dịch vụ web; "
                   "hãy chạy `attendance scheduler` thành một tiến trình riêng.", err=True)
        return
    command = [sys.executable, "-m", "attendance.cli"]
    if app.config_path:
        command += ["--config", os.path.abspath(app.config_path)]
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in it

    def end_with_parent() -> None:
        """In the child before it starts: SIGTERM when ``serve`` ends, however it ends
        (SIGKILL included), so that a restarted ``serve`` never finds a second scheduler."""
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    stop_at_exit([subprocess.Popen(command + ["scheduler"], stdin=subprocess.DEVNULL,
                                   preexec_fn=end_with_parent)])


def _check_address(host: str, port: int) -> None:
    """Refuse in one line, before anything starts, an address gunicorn could not listen on
    (it would print its own English errors for seconds, after the address was announced)."""
    try:
        family, _type, _proto, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror:
        raise UserError(f"--host: không tìm thấy địa chỉ {host!r}") from None
    try:
        socket.create_server(address, family=family).close()  # SO_REUSEADDR, as gunicorn
    except OSError as exc:
        reasons = {
            errno.EADDRINUSE: f"cổng {port} đang được dùng (một dịch vụ khác, hoặc attendance "
                              "serve đã chạy); hãy chọn --port khác",
            errno.EACCES: f"không có quyền mở cổng {port} (cổng dưới 1024 cần quyền quản trị)",
            errno.EADDRNOTAVAIL: f"địa chỉ {host} không thuộc máy này",
        }
        raise UserError(reasons.get(exc.errno, f"không mở được {host}:{port}: "
                                               f"{exc.strerror}")) from None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Địa chỉ lắng nghe (address to listen on).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True,
              type=click.IntRange(1, 64),
              help="Số tiến trình gunicorn, mặc định 2 × số lõi CPU (worker processes).")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 64),
              help="Số luồng mỗi tiến trình (threads per worker; gthread).")
@click.option("--no-scheduler", is_flag=True,
              help="Không khởi động bộ lập lịch kèm dịch vụ web (no scheduler beside it).")
@click.option("--demo-station", is_flag=True,
              help="Chạy thêm một điểm quét thẻ mẫu đọc video thẻ thật (demo station).")
@pass_app
def serve(app: AppContext, host: str, port: int, workers: int, threads: int, no_scheduler: bool,
          demo_station: bool) -> None:
    """Chạy dịch vụ web và, trừ khi có --no-scheduler, bộ lập lịch (run the web service)."""
    from gunicorn.app.base import BaseApplication

    from web import create_app

    _check_address(host, port)
    config = app.config  # validate the config before anything starts
    flask_app = create_app({"DOMAIN_CONFIG": config})
    engine = flask_app.extensions["attendance"]["engine"]
    if not no_scheduler:  # first: no other thread of this process runs while it forks
        _spawn_scheduler(app)
    if demo_station:
        from scanner import demo as demo_scanner

        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        try:
            demo_scanner.start(app.session_factory, config, f"http://{local}:{port}")
        except LookupError as exc:
            click.echo(f"--demo-station: {exc}", err=True)
    # Nothing of this process may hold a SQLite connection when gunicorn forks its workers.
    engine.dispose()
    app.close()

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
    from attendance import jobs

    app.config
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    jobs.run_scheduler(app.config, app.session_factory)
