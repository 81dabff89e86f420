"""The server bounds glibc's malloc arenas for itself and its workers, unless told."""

import os

import pytest

from entrypoints.malloc import ARENAS, bound_malloc_arenas


def test_the_workers_inherit_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "unset below, restored after")
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    bound_malloc_arenas()

    assert os.environ["MALLOC_ARENA_MAX"] == str(ARENAS)


def test_an_operators_own_setting_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    bound_malloc_arenas()

    assert os.environ["MALLOC_ARENA_MAX"] == "8"
