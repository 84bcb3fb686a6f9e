"""Who did something and where: attached to every history row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A person at a station, or a named system process such as `import`."""

    name: str
    """A readable name: the user's badge or the process ('import', 'demo-seed')."""
    user_id: int | None = None
    station_id: int | None = None

    @classmethod
    def system(cls, process: str) -> Actor:
        """A process acting on its own, with no person or station behind it."""
        return cls(name=process)
