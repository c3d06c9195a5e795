"""`dsar serve` and `dsar worker`: the long-running processes."""

from __future__ import annotations

import typer


def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Run the HTTP API (mail webhook, health check)."""
    import uvicorn

    uvicorn.run("dsar.api.app:create_app", factory=True, host=host, port=port, log_config=None)  # ours: dsar.logs


def worker_cmd(
    queues: str = typer.Option("intake,notices,reminders", "--queues", "-Q", help="Queues to consume"),
    beat: bool = typer.Option(False, "--beat", "-B", help="Also run the periodic scheduler (one per deployment)"),
    concurrency: int = typer.Option(2, "--concurrency", "-c"),
) -> None:
    """Run a Celery worker (and optionally beat) for the dsar tasks."""
    from tasks import app

    argv = ["worker", "-Q", queues, "-c", str(concurrency), "--loglevel", "INFO"]
    app.worker_main(argv + (["-B"] if beat else []))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
    app.command("worker")(worker_cmd)
