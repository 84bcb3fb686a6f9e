"""`shipfloor print deliver --watch` goes on when the store goes away and comes back.

The store is reached through a TCP relay the test controls: cutting it drops every
connection and refuses new ones, as a server restart or a network cut does. The watching
deliverer says it lost the store, keeps trying, records the outcome of a send it could
not record, and delivers what was queued meanwhile once the relay is back."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from app.actor import Actor
from app.demo import seed
from app.hardware import printqueue
from data.models import PrintJob
from data.uow import UnitOfWork
from tests.cli import as_admin
from tests.waiting import wait_until


class Relay:
    """A TCP relay to the database server that can be cut and restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open.clear()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for client, server in pairs:
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def statuses(engine: Engine) -> dict[str, str]:
    with UnitOfWork(engine, read_only=True) as uow:
        rows = uow.session.execute(select(PrintJob.title, PrintJob.status)).all()
    return {title: status.value for title, status in rows}


@pytest.mark.parametrize(
    "store_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)
def test_a_watching_deliverer_goes_on_after_losing_the_store(
    store: Engine, store_url: str, tmp_path: Path
) -> None:
    seed(store, "small", 1)
    out = tmp_path / "printed"
    out.mkdir()
    devices = tmp_path / "devices.toml"
    devices.write_text(
        "[stations.PACK-01.printers.documents]\n"
        f'kind = "folder"\nfolder = "{out}"\nlanguage = "pdf"\n',
        encoding="utf-8",
    )
    url = make_url(store_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)

    def queue(title: str) -> None:
        printqueue.submit(
            store,
            station="PACK-01",
            printer="documents",
            document="test",
            title=title,
            content=b"%PDF-1.4\n" + title.encode() + b"\n%%EOF\n",
            content_type="application/pdf",
            actor=Actor.system("test"),
        )

    argv = as_admin(
        ["--db", relayed, "print", "deliver", "--station", "PACK-01", "--devices", str(devices)]
    )
    deliverer = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *argv, "--watch", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        queue("before")
        wait_until(lambda: len(list(out.iterdir())) == 1, timeout=30, what="the first job")
        relay.cut()
        queue("meanwhile")  # straight to the server, not through the relay
        threading.Event().wait(1.5)  # several rounds find the store gone
        assert deliverer.poll() is None, deliverer.communicate()
        assert len(list(out.iterdir())) == 1
        relay.restore()
        wait_until(lambda: len(list(out.iterdir())) == 2, timeout=30, what="the second job")
        # The send that was being recorded when the store went away is recorded once it
        # is back, and the job queued meanwhile goes out after it, once each.
        wait_until(
            lambda: statuses(store) == {"before": "printed", "meanwhile": "printed"},
            timeout=30,
            what=lambda: f"both jobs printed in the store: {statuses(store)}",
        )
        assert len(list(out.iterdir())) == 2
    finally:
        deliverer.send_signal(signal.SIGINT)
        _, stderr = deliverer.communicate(timeout=30)
        relay.close()
    assert "lost the store" in stderr
    assert "trying again in 0.2 s" in stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
