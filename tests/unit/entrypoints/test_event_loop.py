"""Which event loop `hexahub serve` asks uvicorn for (see `Settings.event_loop`)."""

import pytest

from entrypoints.cli import _event_loop


@pytest.mark.parametrize(("workers", "loop"), [(1, "asyncio"), (2, "auto"), (8, "auto")])
def test_auto_is_the_standard_loop_for_one_worker_and_uvloop_for_several(
    workers: int, loop: str
) -> None:
    assert _event_loop("auto", workers) == loop


@pytest.mark.parametrize("chosen", ["asyncio", "uvloop"])
def test_a_chosen_loop_is_used_whatever_the_workers(chosen: str) -> None:
    assert _event_loop(chosen, 1) == chosen
    assert _event_loop(chosen, 4) == chosen
