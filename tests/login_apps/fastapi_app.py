"""FastAPI app with a login: a bearer token in the JSON reply and a ``session`` cookie; veil's ASGI
middleware on ``LOGIN_PROFILE`` (none for ``none``). Run: ``uvicorn tests.login_apps.fastapi_app:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.login_apps import common
from veil.middleware import ASGIMiddleware

app = FastAPI()
if common.MIDDLEWARE:
    app.add_middleware(ASGIMiddleware, policy=common.POLICY)

SESSION = "session"


def _who(request: Request) -> str | None:
    if common.bearer(request.headers.get("authorization")):
        return "bearer"
    session = request.cookies.get(SESSION, "")
    return "cookie" if session and common.token_valid(session) else None


@app.post("/login")
async def login(request: Request) -> Response:
    if not common.credentials_ok(await request.json()):
        return JSONResponse({"error": "bad credentials"}, status_code=401)
    reply = JSONResponse(common.login_reply(common.issue_token()))
    reply.set_cookie(SESSION, common.issue_token(), httponly=True, samesite="lax")
    return reply


@app.get("/me")
async def me(request: Request) -> Response:
    how = _who(request)
    return JSONResponse(common.profile_reply(how) if how else {"error": "unauthorized"}, status_code=200 if how else 401)


@app.post("/logout")
async def logout(request: Request) -> Response:
    if _who(request) is None:
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    token = common.bearer(request.headers.get("authorization"))
    for credential in (token, request.cookies.get(SESSION)):
        if credential:
            common.revoke(credential)
    reply = JSONResponse({"logged_out": True})
    reply.delete_cookie(SESSION)
    return reply


@app.get("/contact")
async def contact() -> dict[str, Any]:
    return common.contact_reply()


@app.post("/notes")
async def notes(request: Request) -> dict[str, Any]:
    """What the app received: for the egress tests, what the vendor sees."""
    if _who(request) is None:
        return {"error": "unauthorized"}
    return {"received": await request.json()}
