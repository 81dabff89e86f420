"""The `PasswordBlocklist` contract, over the shipped list and the in-memory one."""

import gzip
import threading
from pathlib import Path

import pytest

from adapters.memory.password_blocklist import InMemoryPasswordBlocklist
from adapters.passwords.common_passwords import DEFAULT_PATH, CommonPasswordBlocklist
from application.ports.password_blocklist import PasswordBlocklist

COMMON = ["password", "123456", "qwerty", "iloveyou", "letmein"]


@pytest.fixture(params=["common", "memory"])
def blocklist(request: pytest.FixtureRequest) -> PasswordBlocklist:
    if request.param == "common":
        return CommonPasswordBlocklist()
    return InMemoryPasswordBlocklist(COMMON)


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_blocked(blocklist: PasswordBlocklist, password: str) -> None:
    assert blocklist.contains(password) is True


@pytest.mark.parametrize("password", ["PASSWORD", "Password", "QwErTy", "LetMeIn"])
def test_the_check_ignores_case(blocklist: PasswordBlocklist, password: str) -> None:
    assert blocklist.contains(password) is True


def test_surrounding_whitespace_does_not_dodge_the_list(blocklist: PasswordBlocklist) -> None:
    assert blocklist.contains(" password\n") is True


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "Tr0ub4dor&3-but-longer", "", "password-no-really-x9"],
)
def test_uncommon_passwords_pass(blocklist: PasswordBlocklist, password: str) -> None:
    assert blocklist.contains(password) is False


# --- the shipped list -------------------------------------------------------------------


def test_the_list_ships_next_to_the_module_and_holds_the_django_passwords() -> None:
    assert DEFAULT_PATH.is_file()
    words = CommonPasswordBlocklist().load()
    assert len(words) == 19_640
    assert all(word == word.strip().lower() and word for word in words)


def test_the_file_is_read_once_however_many_threads_ask_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "words.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("Hunter2\n\nswordfish\n")
    opened: list[Path] = []
    real_open = gzip.open

    def counting_open(*args: object, **kwargs: object) -> object:
        opened.append(Path(str(args[0])))
        return real_open(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(gzip, "open", counting_open)
    blocklist = CommonPasswordBlocklist(path)
    start = threading.Barrier(8)
    results: list[bool] = []

    def check() -> None:
        start.wait()
        results.append(blocklist.contains("HUNTER2"))

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [True] * 8
    assert opened == [path]
    assert blocklist.load() == frozenset({"hunter2", "swordfish"})
