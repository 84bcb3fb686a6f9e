"""A pack bench's scale through the bench itself (`PackDesk.read_scale`), on a simulated
MT-SICS scale over a pty pair: a stable weight, a platter that never settles, an
overload, and a scale unplugged then plugged back in; each failure is one sentence and
the next reading works without restarting anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.hardware.config import ScaleConfig, StationDevices
from app.packing.desk import PackDesk
from app.packing.station import PackError
from devices.sim_scale import ScaleSimulator
from tests.packfloor import packer


def desk(engine: Engine, port: Path) -> PackDesk:
    who = packer(engine)
    devices = StationDevices(
        "PACK-01", scale=ScaleConfig(kind="sics", port=str(port), timeout_s=1.0)
    )
    return PackDesk(engine, lambda: who, devices)


def test_the_bench_reads_its_scale_and_says_plainly_when_it_cannot(
    floor: Engine, tmp_path: Path
) -> None:
    with ScaleSimulator("sics", link=tmp_path / "scale", stable_wait=0.2) as sim:
        bench = desk(floor, tmp_path / "scale")
        assert bench.has_scale
        sim.set_weight(1234)
        assert bench.read_scale() == 1234
        sim.set_weight(1500, stable=False)
        with pytest.raises(PackError, match="the scale did not give a weight"):
            bench.read_scale()
        sim.overload()
        with pytest.raises(PackError, match="the scale did not give a weight"):
            bench.read_scale()
        sim.unplug()
        with pytest.raises(
            PackError,
            match="the scale did not give a weight: lost the scale on .*check its cable and power",
        ):
            bench.read_scale()
        sim.replug()
        sim.set_weight(980)
        assert bench.read_scale() == 980


def test_a_bench_without_a_scale_says_to_key_the_weight(floor: Engine) -> None:
    who = packer(floor)
    bench = PackDesk(floor, lambda: who, StationDevices("PACK-01"))
    assert not bench.has_scale
    with pytest.raises(PackError, match="this station has no scale: key the weight instead"):
        bench.read_scale()
