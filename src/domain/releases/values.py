"""Value objects of the releases context; construction validates."""

import re
from dataclasses import dataclass

from domain.releases.errors import (
    InvalidEnvironmentNameError,
    InvalidServiceNameError,
    InvalidVersionError,
)

# A DNS-label-like name: what service and environment names are everywhere else too.
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_NAME = re.compile(NAME_PATTERN)
# The regular expression semver.org gives for SemVer 2.0.0 (numbers without leading
# zeros, dot-separated pre-release and build identifiers), anchored.
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_SEMVER = re.compile(SEMVER_PATTERN, re.ASCII)
VERSION_MAX = 128


@dataclass(frozen=True, slots=True)
class ServiceName:
    """1 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit."""

    value: str

    def __init__(self, raw: str) -> None:
        if not _NAME.fullmatch(raw):
            raise InvalidServiceNameError(
                "name must be 1-63 characters of a-z, 0-9 or '-', starting with a-z or 0-9"
            )
        object.__setattr__(self, "value", raw)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class EnvironmentName:
    """The same shape as a service name (`staging`, `production`, `eu-1`)."""

    value: str

    def __init__(self, raw: str, *, field: str = "environment") -> None:
        if not _NAME.fullmatch(raw):
            raise InvalidEnvironmentNameError(
                "environment name must be 1-63 characters of a-z, 0-9 or '-', "
                "starting with a-z or 0-9",
                field=field,
            )
        object.__setattr__(self, "value", raw)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class SemVer:
    """A Semantic Versioning 2.0.0 version, kept as written (`1.4.0-rc.1+build.7`)."""

    value: str

    def __init__(self, raw: str) -> None:
        if len(raw) > VERSION_MAX or not _SEMVER.fullmatch(raw):
            raise InvalidVersionError("version must be a SemVer 2.0.0 version such as 1.4.0")
        object.__setattr__(self, "value", raw)

    def __str__(self) -> str:
        return self.value
