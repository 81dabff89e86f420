"""RequestContext: each request sees its own facts, and none outside a request."""

import asyncio

import pytest

from adapters.context.request_context import ContextVarRequestContext, bound_request
from adapters.memory.request_context import FixedRequestContext
from application.ports.request_context import RequestMeta


def test_outside_a_request_the_context_is_empty() -> None:
    assert ContextVarRequestContext().current() == RequestMeta()
    assert FixedRequestContext().current() == RequestMeta()


def test_the_fixed_twin_reports_what_it_was_given() -> None:
    meta = RequestMeta(ip="192.0.2.1", user_agent="ua", request_id="r")
    assert FixedRequestContext(meta).current() == meta


async def test_concurrent_requests_never_see_each_others_facts() -> None:
    context = ContextVarRequestContext()

    async def serve(n: int) -> str | None:
        with bound_request(RequestMeta(ip=f"192.0.2.{n}", request_id=str(n))):
            await asyncio.sleep(0.01 * (5 - n))  # interleave
            return context.current().ip

    assert await asyncio.gather(*(serve(n) for n in range(5))) == [f"192.0.2.{n}" for n in range(5)]
    assert context.current() == RequestMeta()


def test_the_binding_ends_with_its_block_even_on_error() -> None:
    context = ContextVarRequestContext()
    with pytest.raises(RuntimeError), bound_request(RequestMeta(ip="192.0.2.9")):
        raise RuntimeError
    assert context.current() == RequestMeta()
