"""Settings read from the environment, with the defaults `make run` relies on.

`fleetyard serve` listens on 127.0.0.1:8080 with a SQLite file under ./data unless
FLEETYARD_HOST, FLEETYARD_PORT or FLEETYARD_DATABASE_URL say otherwise (spec/decisions.md
"Running it"). The CLI's options default to these values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_DATABASE_URL = "sqlite:///data/fleetyard.db"


@dataclass(frozen=True)
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str = DEFAULT_DATABASE_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        port = env.get("FLEETYARD_PORT") or str(DEFAULT_PORT)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"FLEETYARD_PORT must be a port number, not {port!r}")
        return cls(
            host=env.get("FLEETYARD_HOST") or DEFAULT_HOST,
            port=int(port),
            database_url=env.get("FLEETYARD_DATABASE_URL") or DEFAULT_DATABASE_URL,
        )
