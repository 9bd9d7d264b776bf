"""``attendance init-db``."""

import click

from attendance import migrate
from attendance.cli.context import AppContext, UserError, pass_app


@click.command("init-db")
@pass_app
def init_db(app: AppContext) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu; chạy lại không sao (create or upgrade the schema)."""
    app.config  # validate the config before touching the database
    try:
        migrate.upgrade(app.engine)
    except migrate.MigrationRefused as exc:
        raise UserError(str(exc)) from None
    click.echo(f"Cơ sở dữ liệu đã sẵn sàng: {app.engine.url.render_as_string(hide_password=True)}")
