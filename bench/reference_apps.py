"""The reference apps `bench/perf.py` measures HexaHub against, served by the same
uvicorn (httptools, uvloop, no access log) on the same core:

    bare           a raw ASGI callable answering a small JSON document
    fastapi_min    a minimal FastAPI endpoint returning a dict
    fastapi_jwt    FastAPI with a bearer dependency that verifies a PyJWT HS256 token
                   (`BENCH_JWT_SECRET`) and answers a user-like document from its claims:
                   the ceiling for an authenticated endpoint in this stack

Each serves `GET /api/v1/auth/me`.
"""

import json
import os
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

PATH = "/api/v1/auth/me"
AUDIENCE = "bench"
_BODY = json.dumps({"status": "ok"}).encode()


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # lifespan: nothing to start
        message = await receive()
        await send({"type": f"{message['type']}.complete"})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _BODY})


fastapi_min = FastAPI()


@fastapi_min.get(PATH)
async def minimal() -> dict[str, str]:
    return {"status": "ok"}


fastapi_jwt = FastAPI()
_bearer = HTTPBearer()


def _secret() -> str:
    return os.environ["BENCH_JWT_SECRET"]


async def claims(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(_bearer)],
) -> dict[str, Any]:
    try:
        decoded: dict[str, Any] = jwt.decode(
            credentials.credentials, _secret(), algorithms=["HS256"], audience=AUDIENCE
        )
    except jwt.PyJWTError as error:
        raise HTTPException(status_code=401, detail="invalid token") from error
    return decoded


@fastapi_jwt.get(PATH)
async def me(token: Annotated[dict[str, Any], Depends(claims)]) -> dict[str, Any]:
    return {"id": token["sub"], "username": token.get("name"), "is_active": True}
