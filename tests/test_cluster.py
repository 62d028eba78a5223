"""`gatewatch analyze --ray ADDRESS` on a real Ray cluster: a head and a second node started with
Ray's own `ray start` on 127.0.0.1, and the second node killed mid-batch. Every file must be
stored once, with the crossings a local run of the same file gives."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT
from .live import free_port, query, wait_for
from .nvr import HALF_CUTS, Crossings, crossings, cut, files_of, first_half, stored_any, write_config

ray = pytest.importorskip("ray", reason="Ray is in the test extra: scripts/install.sh test")
RAY = Path(sys.executable).with_name("ray")
NODE = ("--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--object-store-memory", "100000000")


class Node:
    """One `ray start --block`, in a process group of its own: killing the group is the node dying."""

    def __init__(self, folder: Path, name: str, *args: str) -> None:
        self.log = (folder / f"{name}.log").open("w")
        command = [str(RAY), "start", *args, *NODE, "--disable-usage-stats", "--block"]
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        self.log.close()


def alive_nodes(address: str) -> int:
    probe = "import ray; ray.init(address=%r, log_to_driver=False); print(sum(n['Alive'] for n in ray.nodes()))"
    result = subprocess.run(
        [sys.executable, "-c", probe % address], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    return int(result.stdout.strip() or 0) if result.returncode == 0 else 0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, Node]]:
    port = free_port()
    address = f"127.0.0.1:{port}"
    head = Node(tmp_path, "head", "--head", "--port", str(port), "--include-dashboard", "false")
    worker = None
    try:
        wait_for(lambda: _listening(port), 60, "the Ray head")
        worker = Node(tmp_path, "worker", "--address", address)
        wait_for(lambda: alive_nodes(address) == 2, 90, "two Ray nodes", every=1)
        yield address, worker
    finally:
        if worker is not None:
            worker.kill()
        head.kill()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_batch_on_a_two_node_cluster_survives_losing_a_node(
    tmp_path: Path, cluster: tuple[str, Node], half_reference: Crossings
) -> None:
    address, worker = cluster
    export = tmp_path / "export"
    cameras = [f"cam{n}" for n in range(1, 7)]
    for channel in range(1, 7):
        cut(export / f"D{channel}", HALF_CUTS, name=f"ch{channel:02d}", frames=first_half())
    config = write_config(tmp_path, {name: {"channel": n} for n, name in enumerate(cameras, 1)})
    db = tmp_path / "out" / "g.db"
    command = [sys.executable, "-m", "pipeline", "analyze", str(export), "--config", str(config), "--db", str(db)]
    command += ["--snapshots", str(db.parent / "snapshots"), "--ray", address]
    batch = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Both nodes are busy (6 chains, one CPU each) when the first chain comes back: kill one.
        wait_for(lambda: stored_any(db) or batch.poll() is not None, 240, "the first chain's files")
        assert batch.poll() is None, batch.communicate()
        assert len(files_of(db)) < 18
        worker.kill()
        stdout, stderr = batch.communicate(timeout=400)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 0, stderr
    assert "on the Ray cluster at" in stderr and "Traceback" not in stderr + stdout
    assert len(files_of(db)) == 18
    for camera in cameras:
        assert [c[1:4] for c in crossings(db, camera)] == [c[1:4] for c in half_reference], camera
    events = [
        (Path(full), Path(crop), Path(clip))
        for full, crop, clip in query(db, "SELECT snapshot_path, crop_path, clip_path FROM events")
    ]
    assert len(events) == sum(c[4] for c in crossings(db)) > 0
    assert all(p.is_file() and p.stat().st_size > 1000 for files in events for p in files)
    assert len(list((db.parent / "snapshots").rglob("*_crop.jpg"))) == len(events)
