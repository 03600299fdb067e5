"""``mltakedown sandbox``: serve the API emulator on 127.0.0.1 and print how to use it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mltakedown.sandbox import SandboxOptions, create_app, seed
from mltakedown.sandbox.server import HOST, serve_forever


def credentials_table(base_url: str, options: SandboxOptions) -> Table:
    """The base URL, seeded tokens, client credentials and sample items, as a table."""
    table = Table(title="mltakedown sandbox", show_header=True, header_style="bold")
    table.add_column("What")
    table.add_column("Value", overflow="fold")
    rows = [
        ("Base URL (MLTAKEDOWN_API_URL)", base_url),
        ("client_id (MLTAKEDOWN_CLIENT_ID)", seed.CLIENT_ID),
        ("client_secret (MLTAKEDOWN_CLIENT_SECRET)", seed.CLIENT_SECRET),
        (f"Seller A {seed.SELLER_A} ACME_CN access token", seed.TOKEN_A),
        ("Seller A refresh token (single use)", seed.REFRESH_A),
        (f"Seller B {seed.SELLER_B} access token", seed.TOKEN_B),
        ("Seller B refresh token (single use)", seed.REFRESH_B),
        ("Authorization page", f"{base_url}/authorization?client_id={seed.CLIENT_ID}&redirect_uri=..."),
        ("Sample item IDs", ", ".join(seed.SAMPLE_ITEM_IDS)),
        (
            "Rate limit (req/s per app)",
            "off" if options.rate_per_second is None else str(options.rate_per_second),
        ),
        ("5xx fault rate", str(options.fail_rate)),
        ("Latency (ms)", str(options.latency_ms)),
        ("Extra generated items", str(options.extra_items)),
        ("Access-token lifetime (s)", str(options.token_ttl_s)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
    rate: Annotated[
        float | None, typer.Option(help="Requests per second per application (default: off).")
    ] = None,
    fail_rate: Annotated[float, typer.Option(help="Share of requests answered with 500/502/503/504.")] = 0.0,
    latency_ms: Annotated[int, typer.Option(help="Delay added to every request, in ms.")] = 0,
    extra_items: Annotated[int, typer.Option(help="Generated items added to seller A for load tests.")] = 0,
    seed_value: Annotated[
        int, typer.Option("--seed", help="Seed of every random choice.")
    ] = SandboxOptions.seed,
) -> None:
    """Serve the Mercado Libre API emulator on 127.0.0.1 (Ctrl+C to stop)."""
    if not 0 < port < 65536:
        raise typer.BadParameter("port must be between 1 and 65535", param_hint="--port")
    if not 0.0 <= fail_rate <= 1.0:
        raise typer.BadParameter("fail rate must be between 0 and 1", param_hint="--fail-rate")
    if rate is not None and rate <= 0:
        raise typer.BadParameter("rate must be positive", param_hint="--rate")
    options = SandboxOptions(
        rate_per_second=rate,
        fail_rate=fail_rate,
        latency_ms=max(0, latency_ms),
        extra_items=max(0, extra_items),
        seed=seed_value,
    )
    Console().print(credentials_table(f"http://{HOST}:{port}", options))
    serve_forever(create_app(options), port)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("sandbox")(sandbox)
