"""Races a real deployment meets: the database, not luck, decides the winner."""

import asyncio
from collections import Counter

import httpx

from tests.integration.http.helpers import new_identity


async def test_25_concurrent_registrations_of_one_email_give_one_account(
    client: httpx.AsyncClient,
) -> None:
    email = new_identity()["email"]
    bodies = [{**new_identity(), "email": email} for _ in range(25)]
    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/register", json=body) for body in bodies)
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 24}
    assert all(r.json()["error"] == "conflict" for r in responses if r.status_code == 409)
    winner = next(r.json() for r in responses if r.status_code == 201)
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": email, "password": bodies[0]["password"]},
    )
    assert login.status_code == 200
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["id"] == winner["id"]


async def test_concurrent_registrations_of_one_username_give_one_account(
    client: httpx.AsyncClient,
) -> None:
    username = new_identity()["username"]
    bodies = [{**new_identity(), "username": username} for _ in range(10)]
    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/register", json=body) for body in bodies)
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
