"""The `PasswordHasher` contract, run against argon2 (at the OWASP minimum) and the fake."""

from collections.abc import Callable, Iterator

import pytest

from adapters.argon2.password_hasher import Argon2PasswordHasher
from adapters.memory.password_hasher import FakePasswordHasher
from application.ports.password_hasher import PasswordHasher

# Builds a hasher; `stronger=True` gives one with raised cost parameters.
MakeHasher = Callable[..., PasswordHasher]


@pytest.fixture(params=["argon2", "fake"])
def make_hasher(request: pytest.FixtureRequest) -> Iterator[MakeHasher]:
    made: list[Argon2PasswordHasher] = []

    def make(*, stronger: bool = False) -> PasswordHasher:
        if request.param == "fake":
            return FakePasswordHasher(cost=2 if stronger else 1)
        hasher = Argon2PasswordHasher(time_cost=3 if stronger else 2)
        made.append(hasher)
        return hasher

    yield make
    for hasher in made:
        hasher.shutdown()


@pytest.fixture
def hasher(make_hasher: MakeHasher) -> PasswordHasher:
    return make_hasher()


async def test_the_right_password_verifies(hasher: PasswordHasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")
    assert await hasher.verify(password_hash, "correct horse battery staple") is True


async def test_a_wrong_password_does_not(hasher: PasswordHasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")
    assert await hasher.verify(password_hash, "correct horse battery stapl") is False
    assert await hasher.verify(password_hash, "") is False


async def test_hashes_are_salted_and_never_contain_the_password(hasher: PasswordHasher) -> None:
    first = await hasher.hash("same password")
    second = await hasher.hash("same password")
    assert first != second
    assert "same password" not in first
    assert await hasher.verify(first, "same password")
    assert await hasher.verify(second, "same password")


async def test_non_ascii_passwords_round_trip(hasher: PasswordHasher) -> None:
    password = "pässwörd-密码-🔑"
    password_hash = await hasher.hash(password)
    assert await hasher.verify(password_hash, password)
    assert not await hasher.verify(password_hash, "passwörd-密码-🔑")


@pytest.mark.parametrize(
    "unreadable",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=abc,t=2,p=1$c2FsdA$aGFzaA",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "fake$c=1$salt$short",
    ],
)
async def test_an_unreadable_hash_verifies_false_instead_of_raising(
    hasher: PasswordHasher, unreadable: str
) -> None:
    assert await hasher.verify(unreadable, "anything") is False


async def test_verify_dummy_accepts_any_password_without_raising(
    hasher: PasswordHasher,
) -> None:
    await hasher.verify_dummy("whatever the attacker typed")
    await hasher.verify_dummy("")
    await hasher.verify_dummy("pässwörd-🔑")


async def test_a_fresh_hash_needs_no_rehash(hasher: PasswordHasher) -> None:
    assert hasher.needs_rehash(await hasher.hash("pw")) is False


async def test_raising_the_parameters_flags_old_hashes_for_rehash(
    make_hasher: MakeHasher,
) -> None:
    old_hash = await make_hasher().hash("pw")
    upgraded = make_hasher(stronger=True)
    assert upgraded.needs_rehash(old_hash) is True
    # The old hash still verifies, so the upgrade can happen at the next login.
    assert await upgraded.verify(old_hash, "pw") is True
    assert upgraded.needs_rehash(await upgraded.hash("pw")) is False


def test_an_unreadable_hash_needs_rehash(hasher: PasswordHasher) -> None:
    assert hasher.needs_rehash("not a hash") is True
