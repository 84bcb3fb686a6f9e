"""What shipping a package costs: a linear model by default, or a carrier's rate table."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class ShippingCost(Protocol):
    """The cost of one package from a node to a ship-to address."""

    def package(self, miles: float) -> float:
        """The fixed part of a package: paid once per node an order ships from."""

    def unit(self, miles: float) -> float:
        """The part paid for every unit in the package."""


@dataclass(frozen=True)
class LinearShippingCost:
    """per package + per unit + per mile (the mile term is paid per package)."""

    per_package: float = 8.759
    per_unit: float = 0.423
    per_mile: float = 0.000541

    def package(self, miles: float) -> float:
        return self.per_package + self.per_mile * miles

    def unit(self, miles: float) -> float:
        del miles
        return self.per_unit


@dataclass(frozen=True)
class RateBand:
    """One distance band of a rate table."""

    up_to_miles: float
    per_package: float
    per_unit: float


@dataclass(frozen=True)
class RateTable:
    """A carrier's zone chart: the first band whose distance covers the package applies."""

    bands: Sequence[RateBand]

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("a rate table needs at least one band")
        limits = [b.up_to_miles for b in self.bands]
        if limits != sorted(limits) or len(set(limits)) != len(limits):
            raise ValueError("rate bands must be in increasing distance order, once each")

    def _band(self, miles: float) -> RateBand:
        index = bisect_left([b.up_to_miles for b in self.bands], miles)
        if index == len(self.bands):
            raise ValueError(
                f"{miles:.0f} miles is beyond the rate table's last band "
                f"({self.bands[-1].up_to_miles:.0f} miles)"
            )
        return self.bands[index]

    def package(self, miles: float) -> float:
        return self._band(miles).per_package

    def unit(self, miles: float) -> float:
        return self._band(miles).per_unit
