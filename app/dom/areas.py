"""Postal areas from a CSV file: where ship-to addresses are, for DOM's distances."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from data import dom as store
from data.store import StoreEngine
from data.uow import UnitOfWork

COLUMNS = ("country", "prefix", "name", "latitude", "longitude")


class AreaFileError(ValueError):
    """The file cannot be used; names the line and what is wrong."""


@dataclass(frozen=True)
class AreaImport:
    """What an import did."""

    rows: int
    added: int


def import_areas(engine: StoreEngine, text: str) -> AreaImport:
    """Add the file's areas (country, prefix, name, latitude, longitude); areas already
    known are kept. The whole file is checked before anything is stored."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise AreaFileError(f"the header lacks {', '.join(missing)}; columns: {', '.join(COLUMNS)}")
    rows: list[dict[str, object]] = []
    for row in reader:
        line = reader.line_num
        country = (row["country"] or "").strip().upper()
        prefix = (row["prefix"] or "").strip().replace(" ", "").upper()
        if len(country) != 2 or not country.isalpha():
            raise AreaFileError(f"line {line}: country {row['country']!r} is not a 2-letter code")
        if not 3 <= len(prefix) <= 20:
            raise AreaFileError(f"line {line}: prefix {row['prefix']!r} needs 3 to 20 characters")
        try:
            lat, lon = float(row["latitude"]), float(row["longitude"])
        except (TypeError, ValueError):
            raise AreaFileError(f"line {line}: latitude and longitude must be numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise AreaFileError(f"line {line}: {lat}, {lon} is not a place on earth")
        rows.append(
            {
                "country": country,
                "prefix": prefix,
                "name": (row["name"] or "").strip(),
                "latitude": lat,
                "longitude": lon,
            }
        )
    with UnitOfWork(engine) as uow:
        before = store.count_postal_areas(uow.session)
        store.add_postal_areas(uow.session, rows)
        after = store.count_postal_areas(uow.session)
        uow.commit()
    return AreaImport(rows=len(rows), added=after - before)
