"""Scales: MT-SICS and continuous-output drivers on real pty pairs and pyserial's loop://."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import ScaleError
from devices.scale import (
    ContinuousScale,
    LineSplitter,
    Reading,
    SicsScale,
    StabilityDetector,
    open_scale,
    parse_continuous_frame,
    parse_sics_reply,
    to_grams,
)
from devices.sim_scale import ScaleSimulator, format_continuous_frame, format_sics_weight

UNITS = ["g", "kg", "lb", "oz"]

# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def sics_sim(tmp_path: Path) -> Iterator[ScaleSimulator]:
    with ScaleSimulator("sics", link=tmp_path / "scale", stable_wait=0.2) as sim:
        yield sim


@pytest.fixture
def sics(sics_sim: ScaleSimulator) -> Iterator[SicsScale]:
    scale = SicsScale(str(sics_sim.link), timeout=0.5)
    with scale:
        yield scale


@pytest.fixture
def cont_sim(tmp_path: Path) -> Iterator[ScaleSimulator]:
    with ScaleSimulator("continuous", link=tmp_path / "scale", interval=0.02) as sim:
        yield sim


@pytest.fixture
def cont(cont_sim: ScaleSimulator) -> Iterator[ContinuousScale]:
    scale = ContinuousScale(str(cont_sim.link), timeout=0.5)
    with scale:
        yield scale


@pytest.fixture
def quiet_pty() -> Iterator[tuple[int, str]]:
    """A pty pair nobody serves: (master fd, slave path)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@contextlib.contextmanager
def feeding(master: int, *chunks: bytes, every: float = 0.02) -> Iterator[None]:
    """Write ``chunks`` (pausing ``every`` seconds after each) to a pty master, over and over."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            for chunk in chunks:
                with contextlib.suppress(BlockingIOError):
                    os.write(master, chunk)
                stop.wait(every)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def later(delay: float, action: Callable[..., object], *args: object) -> threading.Timer:
    timer = threading.Timer(delay, action, args=args)
    timer.start()
    return timer


# --- unit conversions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "grams"),
    [
        ("1.234", "kg", 1234),
        ("0.0005", "kg", 1),
        ("-0.0005", "kg", -1),
        ("100.49", "g", 100),
        ("100.50", "g", 101),
        ("1", "lb", 454),
        ("2.2046", "lb", 1000),
        ("1", "oz", 28),
        ("16", "oz", 454),
        ("0000.120", "KG", 120),
    ],
)
def test_units_convert_to_whole_grams_half_up(value: str, unit: str, grams: int) -> None:
    assert to_grams(value, unit) == grams


def test_unknown_unit_and_bad_number_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown weight unit 'ct'"):
        to_grams("1", "ct")
    with pytest.raises(ValueError, match="not a number"):
        to_grams("1,5", "kg")


# --- MT-SICS replies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "grams", "stable"),
    [
        ("S S     100.00 g", 100, True),
        ("S D     100.00 g", 100, False),
        ("S S      1.234 kg", 1234, True),
        ("S S    -12.34 g", -12, True),
        ("S S   - 12.50 g", -13, True),
        ("S S     2.2046 lb", 1000, True),
        ("S S     3.527 oz", 100, True),
        ("S S 5 g\r\n", 5, True),
    ],
)
def test_sics_weight_replies(line: str, grams: int, stable: bool) -> None:
    reading = parse_sics_reply(line)
    assert reading == Reading(grams=grams, stable=stable, net=False, raw=line.strip())


@pytest.mark.parametrize(
    ("line", "kind", "says"),
    [
        ("S I", "busy", '"S I" (busy'),
        ("S +", "overload", 'scale sent "S +" (overload): take weight off the platter'),
        ("S -", "underload", '"S -" (underload): put the platter back on'),
        ("ES", "refused", "check that it is set to MT-SICS"),
        ("ET", "garbage", "check the baud rate, parity and cable"),
        ("EL", "refused", "not allowed now"),
        ("hello", "garbage", '"hello" which is not a weight reply: check the baud rate'),
        ("", "garbage", '"" which is not a weight reply'),
        ("S S", "garbage", '"S S" which is not a weight reply'),
        ("S S 100.00", "garbage", "not a weight reply"),
        ("\x00\xffzz", "garbage", r"scale sent b'\x00\xffzz' which is not a weight reply"),
        ("S S  100.00 ct", "garbage", "set the scale's unit to g, kg, lb, oz"),
    ],
)
def test_sics_error_replies(line: str, kind: str, says: str) -> None:
    with pytest.raises(ScaleError) as caught:
        parse_sics_reply(line)
    assert caught.value.kind == kind
    assert says in str(caught.value)


# --- continuous frames -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "grams", "stable", "net"),
    [
        ("ST,GS,+  1.234kg", 1234, True, False),
        ("US,NT,-0000.120kg", -120, False, True),
        ("ST,NT,+0001.000kg", 1000, True, True),
        ("ST,GS,   250g", 250, True, False),
        ("ST,GS,+ 2.2046lb", 1000, True, False),
        ("US,GS,+ 3.527 oz", 100, False, False),
        ("ST,GS,+.5kg", 500, True, False),
        ("ST,GS,+  1.234kg\r\n", 1234, True, False),
    ],
)
def test_continuous_frames(line: str, grams: int, stable: bool, net: bool) -> None:
    assert parse_continuous_frame(line) == Reading(grams, stable, net, line.strip())


def test_a_tare_frame_reads_as_the_tare_weight_not_net() -> None:
    assert parse_continuous_frame("ST,TR,+  0.250kg") == Reading(
        250, True, False, "ST,TR,+  0.250kg"
    )


def test_overload_frames() -> None:
    with pytest.raises(ScaleError) as caught:
        parse_continuous_frame("OL,GS,+9999.999kg")
    assert caught.value.kind == "overload"
    assert '"OL,GS,+9999.999kg" (overload): take weight off the platter' in str(caught.value)
    with pytest.raises(ScaleError) as caught:
        parse_continuous_frame("OL,NT,-9999.999kg")
    assert caught.value.kind == "underload"
    assert '"OL,NT,-9999.999kg" (underload)' in str(caught.value)


@pytest.mark.parametrize(
    "line",
    [
        "ST,GS,+  1.2",
        "GS,+  1.234kg",
        "34kg",
        "XX,GS,+  1.234kg",
        "ST,XX,+  1.234kg",
        "ST,GS,+  1.2.3kg",
        "ST,GS,+  kg",
        "ST,GS,++1.234kg",
        "ST,GS,+  1.234",
        "st,gs,+  1.234kg",
        "\x00\xff#",
    ],
)
def test_malformed_frames_are_garbage_named(line: str) -> None:
    with pytest.raises(ScaleError) as caught:
        parse_continuous_frame(line)
    assert caught.value.kind == "garbage"
    message = str(caught.value)
    assert "which is not a weight frame" in message
    assert (f'"{line}"' if line.isprintable() else repr(line.encode("latin-1"))) in message


def test_a_frame_in_an_unknown_unit_names_the_unit() -> None:
    with pytest.raises(ScaleError, match="in 'ct', which Shipfloor does not convert") as caught:
        parse_continuous_frame("ST,GS,+  1.234ct")
    assert caught.value.kind == "garbage"


# --- pure helpers ------------------------------------------------------------------------


def stable(grams: int, *, net: bool = False) -> Reading:
    return Reading(grams, True, net, f"ST,{grams}")


def test_stability_needs_n_stable_frames_within_tolerance() -> None:
    detector = StabilityDetector(frames=3, tolerance_grams=2)
    assert detector.add(stable(1000)) is None
    assert detector.add(stable(1002)) is None
    assert detector.add(stable(1001)) == stable(1001)
    # Still settled as more agreeing frames arrive.
    assert detector.add(stable(1000)) == stable(1000)


def test_an_unstable_frame_resets_the_count() -> None:
    detector = StabilityDetector(frames=3, tolerance_grams=2)
    detector.add(stable(1000))
    detector.add(stable(1000))
    assert detector.add(Reading(1000, False, False, "US")) is None
    assert detector.add(stable(1000)) is None
    assert detector.add(stable(1000)) is None
    assert detector.add(stable(1000)) == stable(1000)


def test_a_jump_resets_and_a_drift_keeps_only_the_agreeing_tail() -> None:
    detector = StabilityDetector(frames=3, tolerance_grams=2)
    detector.add(stable(1000))
    detector.add(stable(1000))
    assert detector.add(stable(1500)) is None
    assert detector.add(stable(1500)) is None
    assert detector.add(stable(1501)) == stable(1501)
    detector.reset()
    # 1000, 1002, 1004: the first and last are 4 g apart, so only 1002, 1004 count.
    for grams in (1000, 1002, 1004):
        assert detector.add(stable(grams)) is None
    assert detector.add(stable(1003)) == stable(1003)


def test_switching_between_gross_and_net_resets() -> None:
    detector = StabilityDetector(frames=2, tolerance_grams=2)
    detector.add(stable(0))
    assert detector.add(stable(0, net=True)) is None
    assert detector.add(stable(0, net=True)) == stable(0, net=True)


def test_stability_detector_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="stable_frames"):
        StabilityDetector(0, 2)
    with pytest.raises(ValueError, match="tolerance_grams"):
        StabilityDetector(3, -1)


def test_line_splitter_skips_the_partial_line_at_the_start() -> None:
    splitter = LineSplitter(skip_partial=True)
    assert splitter.feed(b"34kg\r\nST,GS,+  1.2") == []
    assert splitter.pending == b"ST,GS,+  1.2"
    assert splitter.feed(b"34kg\r") == [b"ST,GS,+  1.234kg"]
    assert splitter.feed(b"\nUS,GS,+  1.000kg\nST") == [b"US,GS,+  1.000kg"]
    assert LineSplitter().feed(b"S S 1 g\r\n") == [b"S S 1 g"]


# --- pyserial loop:// --------------------------------------------------------------------


def test_frames_and_replies_sent_to_oneself_parse_back() -> None:
    port = serial.serial_for_url("loop://", timeout=0.2)
    try:
        port.write(b"ST,GS,+  1.234kg\r\nS S     100.00 g\r\nOL,GS,+9999")
        splitter = LineSplitter()
        lines = splitter.feed(port.read(port.in_waiting))
        assert splitter.pending == b"OL,GS,+9999"
    finally:
        port.close()
    assert parse_continuous_frame(lines[0].decode()).grams == 1234
    assert parse_sics_reply(lines[1].decode()).grams == 100


# --- SicsScale against the simulator -----------------------------------------------------


def test_sics_stable_and_now(sics_sim: ScaleSimulator, sics: SicsScale) -> None:
    sics_sim.set_weight(1234)
    assert sics.read_stable() == Reading(1234, True, False, "S S    1234.00 g")
    sics_sim.set_weight(1250, stable=False)
    assert sics.read_now() == Reading(1250, False, False, "S D    1250.00 g")


def test_sics_dynamic_then_stable(sics_sim: ScaleSimulator, sics: SicsScale) -> None:
    sics_sim.set_weight(480, stable=False)
    timer = later(0.3, sics_sim.set_weight, 500)
    started = time.monotonic()
    assert sics.read_stable(timeout=3.0).grams == 500
    assert time.monotonic() - started >= 0.25
    timer.join()


def test_sics_dynamic_replies_are_asked_again(sics_sim: ScaleSimulator, sics: SicsScale) -> None:
    sics_sim.set_weight(102)
    sics_sim.answer_next("S D     100.00 g", "S D     101.00 g")
    assert sics.read_stable(timeout=2.0).raw == "S S     102.00 g"


def test_sics_busy_then_stable(sics_sim: ScaleSimulator, sics: SicsScale) -> None:
    sics_sim.set_weight(700)
    sics_sim.busy(True)
    with pytest.raises(ScaleError) as caught:
        sics.read_now()
    assert caught.value.kind == "busy"
    timer = later(0.2, sics_sim.busy, False)
    assert sics.read_stable(timeout=3.0).grams == 700
    timer.join()


def test_sics_never_stable_times_out_naming_the_last_reply(
    sics_sim: ScaleSimulator, sics: SicsScale
) -> None:
    sics_sim.busy(True)
    with pytest.raises(ScaleError) as caught:
        sics.read_stable(timeout=0.3)
    assert caught.value.kind == "timeout"
    assert 'within 0.3 s (last reply "S I"): keep the platter still' in str(caught.value)


@pytest.mark.parametrize(("fault", "kind"), [("overload", "overload"), ("underload", "underload")])
def test_sics_overload_and_underload(
    sics_sim: ScaleSimulator, sics: SicsScale, fault: str, kind: str
) -> None:
    getattr(sics_sim, fault)()
    for read in (sics.read_now, sics.read_stable):
        with pytest.raises(ScaleError) as caught:
            read()
        assert caught.value.kind == kind


@pytest.mark.parametrize(
    ("reply", "kind"), [("ES", "refused"), ("ET", "garbage"), ("EL", "refused")]
)
def test_sics_error_replies_from_the_scale(
    sics_sim: ScaleSimulator, sics: SicsScale, reply: str, kind: str
) -> None:
    sics_sim.answer_next(reply)
    with pytest.raises(ScaleError) as caught:
        sics.read_stable()
    assert caught.value.kind == kind
    assert f'"{reply}"' in str(caught.value)


def test_sics_garbage_names_the_bytes_and_the_baud_rate(
    sics_sim: ScaleSimulator, sics: SicsScale
) -> None:
    sics_sim.answer_next(b"\x00\xffzz", "hello")
    with pytest.raises(ScaleError) as caught:
        sics.read_now()
    assert caught.value.kind == "garbage"
    assert str(caught.value) == (
        r"scale sent b'\x00\xffzz' which is not a weight reply: check the baud rate "
        "(9600 configured) and that the scale speaks MT-SICS"
    )
    with pytest.raises(ScaleError, match='sent "hello" which is not a weight reply'):
        sics.read_now()
    sics_sim.set_weight(5)
    assert sics.read_now().grams == 5


def test_the_simulator_answers_unknown_commands_with_es(sics_sim: ScaleSimulator) -> None:
    port = serial.serial_for_url(sics_sim.port, timeout=1.0)
    try:
        port.write(b"XYZ\r\n")
        assert port.read_until(b"\r\n") == b"ES\r\n"
        port.write(b"I4\r\n")
        assert port.read_until(b"\r\n") == b'I4 A "0123456789"\r\n'
    finally:
        port.close()


def test_sics_zero(sics_sim: ScaleSimulator, sics: SicsScale) -> None:
    sics_sim.set_weight(300)
    sics.zero()
    assert sics.read_now().grams == 0
    sics_sim.set_weight(1300)
    assert sics.read_now().grams == 1000
    sics_sim.busy(True)
    with pytest.raises(ScaleError, match='"Z I"') as caught:
        sics.zero()
    assert caught.value.kind == "busy"


@pytest.mark.parametrize(
    ("load", "kind", "reply"), [(5000, "overload", "Z +"), (-5000, "underload", "Z -")]
)
def test_sics_zero_out_of_range(
    sics_sim: ScaleSimulator, sics: SicsScale, load: int, kind: str, reply: str
) -> None:
    sics_sim.set_weight(load)
    with pytest.raises(ScaleError) as caught:
        sics.zero()
    assert caught.value.kind == kind
    assert f'"{reply}" (' in str(caught.value)
    assert "then zero" in str(caught.value)


def test_sics_tare_and_clear_tare(sics_sim: ScaleSimulator, sics: SicsScale) -> None:
    sics_sim.set_weight(250)
    assert sics.tare() == Reading(250, True, False, "T S     250.00 g")
    sics_sim.set_weight(1250)
    assert sics.read_stable().grams == 1000
    sics.clear_tare()
    assert sics_sim.tare_grams is None
    assert sics.read_stable().grams == 1250


def test_sics_tare_refusals(sics_sim: ScaleSimulator, sics: SicsScale) -> None:
    sics_sim.set_weight(-10)
    with pytest.raises(ScaleError, match='"T -"') as caught:
        sics.tare()
    assert caught.value.kind == "underload"
    sics_sim.set_weight(10, stable=False)
    with pytest.raises(ScaleError, match='"T I"') as caught:
        sics.tare()
    assert caught.value.kind == "busy"
    sics_sim.answer_next("TAC I")
    with pytest.raises(ScaleError) as caught:
        sics.clear_tare()
    assert caught.value.kind == "busy"


def test_sics_identify(sics_sim: ScaleSimulator, sics: SicsScale) -> None:
    assert sics.identify().endswith("serial number 0123456789")
    sics_sim.answer_next("garbage")
    with pytest.raises(ScaleError, match="not a reply to I4"):
        sics.identify()


def test_sics_timeout_when_nobody_answers(quiet_pty: tuple[int, str]) -> None:
    _, path = quiet_pty
    scale = SicsScale(path, timeout=0.2)
    with scale:
        with pytest.raises(ScaleError) as caught:
            scale.read_now()
        assert caught.value.kind == "timeout"
        assert str(caught.value) == (
            f"scale on {path} did not answer SI within 0.2 s: "
            "is it on and set to MT-SICS at 9600 baud?"
        )
        with pytest.raises(ScaleError, match="did not answer S within 0.2 s") as caught:
            scale.read_stable(timeout=0.2)
        assert caught.value.kind == "timeout"


def test_sics_scale_that_cannot_be_opened(tmp_path: Path) -> None:
    scale = SicsScale(str(tmp_path / "missing"), timeout=0.2)
    with pytest.raises(ScaleError, match="cannot be opened") as caught:
        scale.read_now()
    assert caught.value.kind == "disconnected"


def test_sics_unplug_then_replug_at_the_same_link(
    sics_sim: ScaleSimulator, sics: SicsScale
) -> None:
    sics_sim.set_weight(900)
    assert sics.read_now().grams == 900
    sics_sim.unplug()
    with pytest.raises(ScaleError) as caught:
        sics.read_now()
    assert caught.value.kind == "disconnected"
    assert str(sics_sim.link) in str(caught.value)
    # Still unplugged: the link is gone, as a udev name goes with the device.
    with pytest.raises(ScaleError, match="cannot be opened") as caught:
        sics.read_now()
    assert caught.value.kind == "disconnected"
    sics_sim.replug()
    sics_sim.set_weight(950)
    assert sics.read_stable().grams == 950
    assert os.path.realpath(str(sics_sim.link)) == sics_sim.port


def test_sics_unplug_while_waiting_for_a_reply(tmp_path: Path) -> None:
    with ScaleSimulator("sics", link=tmp_path / "scale", stable_wait=10.0) as sim:
        scale = SicsScale(str(sim.link), timeout=0.5)
        sim.set_weight(100, stable=False)
        timer = later(0.2, sim.unplug)
        with pytest.raises(ScaleError) as caught:
            scale.read_stable(timeout=3.0)
        assert caught.value.kind == "disconnected"
        timer.join()
        sim.replug()
        sim.set_weight(100)
        assert scale.read_stable().grams == 100
        scale.close()


# --- ContinuousScale against the simulator and raw ptys ----------------------------------


def test_continuous_now_and_stable(cont_sim: ScaleSimulator, cont: ContinuousScale) -> None:
    cont_sim.set_weight(1234)
    assert cont.read_stable() == Reading(1234, True, False, "ST,GS,+   1.234kg")
    cont_sim.set_weight(1300, stable=False)
    # One frame sent before the change may still be on its way; the next one is new.
    assert cont.read_now().grams in (1234, 1300)
    assert cont.read_now() == Reading(1300, False, False, "US,GS,+   1.300kg")


def test_continuous_waits_for_the_weight_to_settle(
    cont_sim: ScaleSimulator, cont: ContinuousScale
) -> None:
    cont_sim.set_weight(400, stable=False)
    timer = later(0.3, cont_sim.set_weight, 420)
    assert cont.read_stable(timeout=3.0).grams == 420
    timer.join()
    cont_sim.set_weight(420, stable=False)
    with pytest.raises(ScaleError) as caught:
        cont.read_stable(timeout=0.3)
    assert caught.value.kind == "timeout"
    assert '(last frame "US,GS,+   0.420kg"): keep the platter still' in str(caught.value)


def test_continuous_tare_net_and_clear(cont_sim: ScaleSimulator, cont: ContinuousScale) -> None:
    cont_sim.set_weight(250)
    assert cont.tare().grams == 250
    assert cont_sim.tare_grams == 250
    cont_sim.set_weight(1250)
    assert cont.read_stable() == Reading(1000, True, True, "ST,NT,+   1.000kg")
    cont.clear_tare()
    assert cont.read_stable() == Reading(1250, True, False, "ST,GS,+   1.250kg")


def test_continuous_tare_ignored_by_the_scale_is_refused(
    cont_sim: ScaleSimulator, cont: ContinuousScale
) -> None:
    cont_sim.set_weight(-20)  # the simulator, like many indicators, will not tare below zero
    with pytest.raises(ScaleError, match="kept sending gross weights after T") as caught:
        cont.tare()
    assert caught.value.kind == "refused"


def test_continuous_zero(cont_sim: ScaleSimulator, cont: ContinuousScale) -> None:
    cont_sim.set_weight(100)
    cont.zero()
    assert cont.read_stable().grams == 0
    cont_sim.set_weight(600)
    assert cont.read_stable().grams == 500


def test_continuous_overload_and_underload(cont_sim: ScaleSimulator, cont: ContinuousScale) -> None:
    cont_sim.overload()
    with pytest.raises(ScaleError, match='"OL,GS,\\+9999.999kg" \\(overload\\)') as caught:
        cont.read_stable()
    assert caught.value.kind == "overload"
    cont_sim.underload()
    with pytest.raises(ScaleError) as caught:
        cont.read_now()
    assert caught.value.kind in ("underload", "overload")  # one overload frame may be in flight
    with pytest.raises(ScaleError) as caught:
        cont.read_now()
    assert caught.value.kind == "underload"
    cont_sim.set_weight(10)
    assert cont.read_stable().grams == 10


def test_continuous_zero_padded_frames() -> None:
    with ScaleSimulator("continuous", zero_pad=True, interval=0.02) as sim:
        sim.set_weight(-120)
        scale = ContinuousScale(sim.port, timeout=0.5)
        with scale:
            assert scale.read_stable().raw == "ST,GS,-0000.120kg"
            assert scale.identify().endswith("last frame ST,GS,-0000.120kg")


def test_continuous_identify(cont_sim: ScaleSimulator, cont: ContinuousScale) -> None:
    cont_sim.set_weight(1234)
    assert cont.identify() == f"continuous output on {cont_sim.link}, last frame ST,GS,+   1.234kg"
    cont_sim.overload()
    assert "last frame OL,GS,+9999.999kg" in cont.identify()


def test_continuous_garbage_between_frames_is_skipped(
    cont_sim: ScaleSimulator, cont: ContinuousScale
) -> None:
    cont_sim.set_weight(777)
    stop = threading.Event()

    def noise() -> None:
        while not stop.is_set():
            cont_sim.send_raw(b"\x00\xff#@!\r\n")
            stop.wait(0.03)
            cont_sim.send_raw(b"ST,GS,+   9.")  # a cut-off frame glued to the next one
            stop.wait(0.07)

    thread = threading.Thread(target=noise, daemon=True)
    thread.start()
    try:
        assert cont.read_stable(timeout=3.0).grams == 777
        assert cont.read_now().grams == 777
    finally:
        stop.set()
        thread.join()


def test_continuous_only_garbage_is_reported_at_the_timeout(quiet_pty: tuple[int, str]) -> None:
    master, path = quiet_pty
    scale = ContinuousScale(path, timeout=0.3)
    with scale, feeding(master, b"\x00\xffzz\r\n"):
        started = time.monotonic()
        with pytest.raises(ScaleError) as caught:
            scale.read_now()
        assert time.monotonic() - started >= 0.25
    assert caught.value.kind == "garbage"
    assert str(caught.value).startswith(r"scale sent b'\x00\xffzz' which is not a weight frame")
    assert "(9600 configured)" in str(caught.value)


def test_continuous_without_line_breaks_is_garbage(quiet_pty: tuple[int, str]) -> None:
    master, path = quiet_pty
    scale = ContinuousScale(path, timeout=0.3)
    with (
        scale,
        feeding(master, b"ST,GS,+  1.234kg"),
        pytest.raises(ScaleError, match="and no line break within 0.3 s") as caught,
    ):
        scale.read_now()
    assert caught.value.kind == "garbage"


def test_continuous_frame_split_across_writes_and_joined_midway(
    quiet_pty: tuple[int, str],
) -> None:
    master, path = quiet_pty
    scale = ContinuousScale(path, timeout=1.0)
    with scale, feeding(master, b"ST,GS,+  1.2", b"34kg\r\n", every=0.01):
        assert scale.read_now().grams == 1234
        assert scale.read_stable().grams == 1234


def test_continuous_a_jump_keeps_it_from_settling(quiet_pty: tuple[int, str]) -> None:
    master, path = quiet_pty
    cycle = b"ST,GS,+  1.000kg\r\nST,GS,+  1.000kg\r\nST,GS,+  1.500kg\r\n"
    two = ContinuousScale(path, timeout=1.0, stable_frames=2)
    with two, feeding(master, cycle, every=0.01):
        assert two.read_stable(timeout=1.0).grams == 1000
    three = ContinuousScale(path, timeout=1.0, stable_frames=3)
    with (
        three,
        feeding(master, cycle, every=0.01),
        pytest.raises(ScaleError, match="did not settle within 0.4 s") as caught,
    ):
        three.read_stable(timeout=0.4)
    assert caught.value.kind == "timeout"


def test_continuous_tare_frames_are_not_weights(quiet_pty: tuple[int, str]) -> None:
    master, path = quiet_pty
    scale = ContinuousScale(path, timeout=0.3)
    with (
        scale,
        feeding(master, b"ST,TR,+  0.250kg\r\n"),
        pytest.raises(ScaleError, match='sends only tare frames \\("ST,TR') as caught,
    ):
        scale.read_now()
    assert caught.value.kind == "refused"
    with scale, feeding(master, b"ST,TR,+  0.250kg\r\nST,NT,+  0.750kg\r\n"):
        assert scale.read_now() == Reading(750, True, True, "ST,NT,+  0.750kg")


def test_continuous_timeout_when_nothing_arrives(quiet_pty: tuple[int, str]) -> None:
    _, path = quiet_pty
    scale = ContinuousScale(path, timeout=0.2)
    with scale, pytest.raises(ScaleError) as caught:
        scale.read_now()
    assert caught.value.kind == "timeout"
    assert str(caught.value) == (
        f"scale on {path} sent no frame within 0.2 s: "
        "is it on and set to continuous output at 9600 baud?"
    )


def test_continuous_unplug_mid_read_then_replug(
    cont_sim: ScaleSimulator, cont: ContinuousScale
) -> None:
    cont_sim.set_weight(300, stable=False)
    timer = later(0.2, cont_sim.unplug)
    with pytest.raises(ScaleError) as caught:
        cont.read_stable(timeout=3.0)
    assert caught.value.kind == "disconnected"
    timer.join()
    cont_sim.replug()
    cont_sim.set_weight(300)
    assert cont.read_stable().grams == 300


# --- factory -----------------------------------------------------------------------------


def test_open_scale_builds_each_kind() -> None:
    sics = open_scale("sics", "loop://", baudrate=19200, timeout=1.0)
    assert isinstance(sics, SicsScale)
    assert (sics.baudrate, sics.timeout) == (19200, 1.0)
    cont = open_scale("continuous", "loop://", stable_frames=5, tolerance_grams=1)
    assert isinstance(cont, ContinuousScale)
    assert (cont.detector.frames, cont.detector.tolerance_grams) == (5, 1)


def test_open_scale_refuses_unknown_kinds_and_options() -> None:
    with pytest.raises(
        ValueError, match="unknown scale kind 'mettler': use one of sics, continuous"
    ):
        open_scale("mettler", "loop://")
    with pytest.raises(ValueError, match="unknown option\\(s\\) stable_frames for a sics scale"):
        open_scale("sics", "loop://", stable_frames=3)


# --- round trips -------------------------------------------------------------------------


@given(
    grams=st.integers(-10_000_000, 10_000_000),
    unit=st.sampled_from(UNITS),
    is_stable=st.booleans(),
)
def test_any_sics_weight_parses_back(grams: int, unit: str, is_stable: bool) -> None:
    reading = parse_sics_reply(format_sics_weight(grams, unit=unit, stable=is_stable))
    assert (reading.grams, reading.stable) == (grams, is_stable)


@given(
    grams=st.integers(-10_000_000, 10_000_000),
    unit=st.sampled_from(UNITS),
    is_stable=st.booleans(),
    net=st.booleans(),
    zero_pad=st.booleans(),
)
def test_any_continuous_frame_parses_back(
    grams: int, unit: str, is_stable: bool, net: bool, zero_pad: bool
) -> None:
    frame = format_continuous_frame(grams, stable=is_stable, net=net, unit=unit, zero_pad=zero_pad)
    assert parse_continuous_frame(frame) == Reading(grams, is_stable, net, frame)


@pytest.mark.parametrize("unit", UNITS)
def test_simulated_weights_come_back_through_the_pty(unit: str) -> None:
    with (
        ScaleSimulator("sics", unit=unit) as sics_sim,
        ScaleSimulator("continuous", unit=unit, interval=0.01) as cont_sim,
    ):
        sics = SicsScale(sics_sim.port, timeout=0.5)
        cont = ContinuousScale(cont_sim.port, timeout=0.5, tolerance_grams=0)

        @settings(max_examples=10, deadline=None)
        @given(grams=st.integers(-30_000, 30_000))
        def round_trip(grams: int) -> None:
            sics_sim.set_weight(grams)
            cont_sim.set_weight(grams)
            assert sics.read_stable().grams == grams
            assert cont.read_stable().grams == grams

        with sics, cont:
            round_trip()
