"""``mltakedown login`` and ``mltakedown accounts``: connect seller accounts to this computer."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mltakedown.accounts import AccountBook, finish_login, remove_account, start_login
from mltakedown.meli.auth import AUTH_HOSTS, OAuthApp
from mltakedown.meli.config import ClientConfig
from mltakedown.meli.errors import MeliError

console = Console()

accounts_app = typer.Typer(
    help="List (the default) or remove the seller accounts logged in on this computer.",
    invoke_without_command=True,
)


def login(
    alias: Annotated[
        str, typer.Argument(help="A short name for the account; the workbook's Settings use it.")
    ],
    site: Annotated[
        str, typer.Option(help="The site the seller sells on (MLM, MLB, MLA, MLC, MCO, …).")
    ] = "MLM",
    client_id: Annotated[
        str | None, typer.Option(envvar="MLTAKEDOWN_CLIENT_ID", help="Your Mercado Libre application's ID.")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="MLTAKEDOWN_CLIENT_SECRET", help="Your application's secret.", show_default=False
        ),
    ] = None,
    redirect_uri: Annotated[
        str, typer.Option(help="The redirect URI registered for your application.")
    ] = "https://localhost/mltakedown",
    api_url: Annotated[
        str | None,
        typer.Option(envvar="MLTAKEDOWN_API_URL", help="API base URL (a sandbox URL to rehearse)."),
    ] = None,
    auth_url: Annotated[
        str | None, typer.Option(help="Authorization page host, when not the country's own (e.g. a sandbox).")
    ] = None,
    code: Annotated[
        str | None, typer.Option(help="The redirect address (or code), when you have it already; else asked.")
    ] = None,
) -> None:
    """Connect a seller account: open the authorization page, paste back where it sent you.

    Uses the authorization-code flow with PKCE. Tokens go to the system keyring (or a private
    file in your config folder), never into a workbook.

    Example: mltakedown login acme-mx --site MLM --client-id 123 --client-secret …
    """
    site = site.upper()
    if site not in AUTH_HOSTS and auth_url is None:
        raise typer.BadParameter(
            f"unknown site {site!r}; one of {', '.join(sorted(AUTH_HOSTS))}", param_hint="--site"
        )
    if not client_id or not client_secret:
        raise typer.BadParameter(
            "give --client-id and --client-secret (or set MLTAKEDOWN_CLIENT_ID / MLTAKEDOWN_CLIENT_SECRET)"
        )
    app = OAuthApp(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        site_id=site,
        api_url=(api_url or ClientConfig().api_url).rstrip("/"),
        auth_host=auth_url,
    )
    start = start_login(app)
    console.print("1. Open this address, sign in as the seller and allow access:\n")
    console.print(start.url, soft_wrap=True, highlight=False)
    pasted = code if code is not None else typer.prompt("\n2. Paste the address your browser was sent to")
    try:
        account = asyncio.run(finish_login(alias=alias, app=app, start=start, pasted=pasted))
    except MeliError as exc:
        console.print(f"[red]Login failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"[green]Logged in[/green] as {account.nickname or account.user_id} (seller {account.user_id}) "
        f"under the alias [bold]{alias}[/bold]. Put this alias and seller ID on the workbook's Settings sheet."
    )


@accounts_app.callback()
def accounts_default(ctx: typer.Context) -> None:
    """List the accounts when no subcommand is given."""
    if ctx.invoked_subcommand is None:
        list_accounts()


@accounts_app.command("list")
def list_accounts() -> None:
    """List the accounts logged in on this computer."""
    accounts = AccountBook().all()
    if not accounts:
        console.print("No accounts yet. Connect one with: mltakedown login ALIAS --site MLM …")
        return
    table = Table("Alias", "Seller ID", "Nickname", "Site", "Application", "API")
    for account in accounts:
        table.add_row(
            account.alias,
            str(account.user_id),
            account.nickname,
            account.site_id,
            account.client_id,
            account.api_url,
        )
    console.print(table)


@accounts_app.command("remove")
def remove(alias: Annotated[str, typer.Argument(help="The account alias to forget.")]) -> None:
    """Forget an account and delete its stored tokens."""
    if not remove_account(alias):
        console.print(f"No account called {alias!r}.")
        raise typer.Exit(1)
    console.print(f"Removed {alias!r} and its tokens.")


def register(app: typer.Typer) -> None:
    """Add ``login`` and ``accounts`` to the application."""
    app.command("login")(login)
    app.add_typer(accounts_app, name="accounts")
