"""The Starlette application: routes of the emulated Mercado Libre API.

Handlers are thin: authenticate, parse, call :mod:`.rules` / :mod:`.search` / the world, render.
Paths and shapes follow ARCHITECTURE.md §1, which is what ``mltakedown.meli`` calls.
"""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import rules, search
from .errors import ApiError, bad_request, envelope, item_not_found_body, not_found
from .gateway import Gateway
from .options import SandboxOptions
from .views import parse_fields, render_item, select_fields
from .world import Caller, World

MULTIGET_MAX = 20


def _world(request: Request) -> World:
    return cast(World, request.app.state.world)


def _caller(request: Request) -> Caller:
    return _world(request).authenticate(request.headers.get("authorization"))


def _optional_caller(request: Request) -> Caller | None:
    """Public resources work without a token; a token, if sent, must be valid."""
    if "authorization" not in request.headers:
        return None
    return _caller(request)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise bad_request("Malformed JSON body", "bad_request") from None


def _int_path(request: Request, name: str) -> int:
    raw = str(request.path_params[name])
    if not raw.isdigit():
        raise not_found(f"Resource {raw} not found")
    return int(raw)


# --- OAuth ---------------------------------------------------------------------------------


async def oauth_token(request: Request) -> Response:
    """``POST /oauth/token`` (form body; query-string parameters are accepted as a fallback)."""
    form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    for key, value in request.query_params.items():
        form.setdefault(key, value)
    return JSONResponse(_world(request).tokens.grant(form))


async def authorization(request: Request) -> Response:
    """``GET /authorization``: the consent page, approved at once; redirects with ``?code=``.

    Sandbox extension: ``user_id`` picks which seeded seller approves (default seller A).
    """
    params = request.query_params
    world = _world(request)
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri")
    if client_id not in world.tokens.apps or not redirect_uri:
        raise bad_request("client_id and redirect_uri are required", "invalid_request")
    raw_user = params.get("user_id", "1001")
    if not raw_user.isdigit():
        raise bad_request(f"Invalid user_id: {raw_user}", "invalid_request")
    user_id = int(raw_user)
    world.user(user_id)
    code = world.issue_authorization_code(
        user_id,
        params.get("code_challenge"),
        params.get("code_challenge_method", "S256"),
        redirect_uri,
        client_id,
    )
    query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}", status_code=302)


# --- users and items -----------------------------------------------------------------------


async def users_me(request: Request) -> Response:
    """``GET /users/me``."""
    caller = _caller(request)
    return JSONResponse(_world(request).user(caller.user_id))


async def item_get(request: Request) -> Response:
    """``GET /items/{id}``: public, but only the owner sees exact stock."""
    caller = _optional_caller(request)
    world = _world(request)
    item = world.item(str(request.path_params["id"]))
    include_all = request.query_params.get("include_attributes") == "all"
    body = render_item(item, caller.user_id if caller else None, include_all=include_all)
    fields = parse_fields(request.query_params.get("attributes"))
    return JSONResponse(select_fields(body, fields) if fields else body)


def _multiget(request: Request, bulk: bool) -> list[dict[str, Any]]:
    caller = _optional_caller(request)
    world = _world(request)
    ids = [i.strip() for i in request.query_params.get("ids", "").split(",") if i.strip()]
    if not ids:
        raise bad_request("ids is required", "bad_request")
    if len(ids) > MULTIGET_MAX:
        raise bad_request(f"The maximum number of ids is {MULTIGET_MAX}", "bad_request")
    include_all = request.query_params.get("include_attributes") == "all"
    fields = parse_fields(request.query_params.get("attributes"), prefix="body." if bulk else "")
    viewer = caller.user_id if caller else None
    out: list[dict[str, Any]] = []
    for iid in ids:
        item = world.items.get(iid)
        if item is None:
            code, body = 404, item_not_found_body(iid)
        else:
            code, body = 200, render_item(item, viewer, include_all=include_all)
            if fields:
                body = select_fields(body, fields)
        out.append({"id": iid, "status_code": code, "body": body} if bulk else {"code": code, "body": body})
    return out


async def items_multiget(request: Request) -> Response:
    """``GET /items?ids=A,B`` (max 20): ``[{code, body}]`` in request order."""
    return JSONResponse(_multiget(request, bulk=False))


async def items_bulk(request: Request) -> Response:
    """``GET /items/bulk?ids=``: the announced successor (``status_code``, root ``id``, ``body.`` fields)."""
    return JSONResponse(_multiget(request, bulk=True))


async def _recorded_write(request: Request, item_id: str | None, action: Any) -> Any:
    """Run a write, logging it in ``world.writes`` whatever its outcome."""
    world = _world(request)
    body: Any = None
    try:
        body = await _json_body(request)
        result = action(body)
    except ApiError as error:
        world.record_write(request.method, request.url.path, item_id, body, error.status)
        raise
    world.record_write(request.method, request.url.path, item_id, body, 200)
    return result


async def item_put(request: Request) -> Response:
    """``PUT /items/{id}``: status machine, stock, variations, delete (see :mod:`.rules`)."""
    caller = _caller(request)
    world = _world(request)
    item_id = str(request.path_params["id"])
    item = await _recorded_write(
        request, item_id, lambda body: rules.update_item(world, caller, item_id, body)
    )
    return JSONResponse(render_item(item, caller.user_id, include_all=True))


async def item_relist(request: Request) -> Response:
    """``POST /items/{id}/relist``: a new item id within 60 days of closing."""
    caller = _caller(request)
    world = _world(request)
    item_id = str(request.path_params["id"])
    item = await _recorded_write(
        request, item_id, lambda body: rules.relist_item(world, caller, item_id, body)
    )
    return JSONResponse(render_item(item, caller.user_id, include_all=True), status_code=201)


async def items_search(request: Request) -> Response:
    """``GET /users/{user_id}/items/search``."""
    caller = _caller(request)
    seller_id = _int_path(request, "user_id")
    return JSONResponse(search.search_items(_world(request), caller, seller_id, request.query_params))


# --- orders, shipments, questions ----------------------------------------------------------


async def orders_search(request: Request) -> Response:
    """``GET /orders/search?seller=…``."""
    caller = _caller(request)
    return JSONResponse(search.search_orders(_world(request), caller, request.query_params))


async def shipment_get(request: Request) -> Response:
    """``GET /shipments/{id}`` (the client sends ``x-format-new: true``)."""
    caller = _caller(request)
    world = _world(request)
    shipment = world.shipments.get(_int_path(request, "shipment_id"))
    if shipment is None:
        raise not_found(f"Shipment {request.path_params['shipment_id']} not found")
    if shipment["sender_id"] != caller.user_id:
        raise ApiError(
            403, envelope(403, "forbidden", "The caller is not authorized to access this resource")
        )
    return JSONResponse(shipment)


async def questions_search(request: Request) -> Response:
    """``GET /questions/search?item_id=|item=&status=&api_version=4``."""
    _caller(request)
    return JSONResponse(search.search_questions(_world(request), request.query_params))


async def my_questions(request: Request) -> Response:
    """``GET /my/received_questions/search?status=UNANSWERED``."""
    caller = _caller(request)
    return JSONResponse(
        search.search_questions(_world(request), request.query_params, seller_id=caller.user_id)
    )


# --- ads ------------------------------------------------------------------------------------


async def advertisers(request: Request) -> Response:
    """``GET /advertising/advertisers?product_id=PADS``: 404 with ``description`` when no ads."""
    caller = _caller(request)
    if request.query_params.get("product_id") != "PADS":
        raise bad_request("product_id must be PADS", "invalid_product")
    found = _world(request).advertisers.get(caller.user_id)
    if not found:
        raise ApiError(
            404,
            {
                "status": 404,
                "error": "not_found",
                "description": f"No permissions found for user_id {caller.user_id}",
            },
        )
    return JSONResponse({"advertisers": found})


async def ad_groups_search(request: Request) -> Response:
    """``GET /advertising/{site}/advertisers/{adv}/product_ads/ad_groups/search``."""
    caller = _caller(request)
    site = str(request.path_params["site"])
    adv = _int_path(request, "advertiser_id")
    return JSONResponse(search.search_ad_groups(_world(request), caller, site, adv, request.query_params))


async def ad_group_put(request: Request) -> Response:
    """``PUT /marketplace/advertising/{site}/product_ads/ad_groups/{id}`` ``{"status": …}``."""
    caller = _caller(request)
    world = _world(request)
    site, group_id = str(request.path_params["site"]), str(request.path_params["ad_group_id"])
    group = await _recorded_write(
        request, None, lambda body: search.set_ad_group_status(world, caller, site, group_id, body)
    )
    return JSONResponse(group)


# --- errors and assembly ---------------------------------------------------------------------


async def _api_error(request: Request, exc: Exception) -> Response:
    error = cast(ApiError, exc)
    return JSONResponse(error.body, status_code=error.status, headers=error.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    error = cast(HTTPException, exc)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "bad_request")
    message = f"Can't resolve resource {request.method} {request.url.path}"
    return JSONResponse(envelope(error.status_code, code, message), status_code=error.status_code)


def routes() -> list[BaseRoute]:
    """Every endpoint the sandbox serves (``/items/bulk`` before ``/items/{id}``)."""
    return [
        Route("/oauth/token", oauth_token, methods=["POST"]),
        Route("/authorization", authorization, methods=["GET"]),
        Route("/users/me", users_me, methods=["GET"]),
        Route("/users/{user_id}/items/search", items_search, methods=["GET"]),
        Route("/items", items_multiget, methods=["GET"]),
        Route("/items/bulk", items_bulk, methods=["GET"]),
        Route("/items/{id}", item_get, methods=["GET"]),
        Route("/items/{id}", item_put, methods=["PUT"]),
        Route("/items/{id}/relist", item_relist, methods=["POST"]),
        Route("/orders/search", orders_search, methods=["GET"]),
        Route("/shipments/{shipment_id}", shipment_get, methods=["GET"]),
        Route("/questions/search", questions_search, methods=["GET"]),
        Route("/my/received_questions/search", my_questions, methods=["GET"]),
        Route("/advertising/advertisers", advertisers, methods=["GET"]),
        Route(
            "/advertising/{site}/advertisers/{advertiser_id}/product_ads/ad_groups/search",
            ad_groups_search,
            methods=["GET"],
        ),
        Route(
            "/marketplace/advertising/{site}/product_ads/ad_groups/{ad_group_id}",
            ad_group_put,
            methods=["PUT"],
        ),
    ]


def create_app(options: SandboxOptions | None = None) -> Starlette:
    """A fresh sandbox (its own seeded world in ``app.state.world``)."""
    world = World(options or SandboxOptions())
    table = routes()
    app = Starlette(
        routes=table,
        middleware=[Middleware(Gateway, world=world, routes=table)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.world = world
    return app
