from typing import Any

from pydantic import BaseModel


class ServiceInfo(BaseModel):
    name: str
    version: str
    environment: str


class Liveness(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, dict[str, Any]]
