"""A batch's chains as Ray tasks on a cluster a district already runs (`analyze --ray ADDRESS`).

Each chain is one task: it reads its files from storage every node sees (the same path on every
node: NFS, CephFS, a mounted bucket), analyses them with the same code as a local run and sends
back its files' results, evidence included as bytes. The driver (this process) writes them, so
the database and snapshot folder are where `analyze` runs, exactly as in a local run.

A task whose node dies is run again by Ray on another node (`max_retries`); the driver stores a
file once, whichever copy of its result arrives first, so a retry neither loses nor doubles
results. Ray is an optional extra (`pip install 'gatewatch[cluster]'`), imported only here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pipeline.config import Config
from pipeline.detectors import CameraDetectors
from pipeline.errors import GatewatchError
from pipeline.offline.chain import FileResult, analyse_chain
from pipeline.offline.footage import Chain
from pipeline.offline.prepare import Job
from pipeline.registrations import RegistrationLeft

TASK_RETRIES = 3  # a node lost mid-chain: the chain runs again elsewhere, up to this many times
TASK_THREADS = 1  # onnxruntime threads per task; Ray runs one task per CPU it schedules


def ray_results(config: Config, jobs: list[Job], address: str) -> Iterator[FileResult]:
    ray = _ray()
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise GatewatchError(f"--ray {address}: cannot connect to the Ray cluster ({exc})") from None
    try:
        task = ray.remote(num_cpus=TASK_THREADS, max_retries=TASK_RETRIES, retry_exceptions=False)(_chain_task)
        shared = ray.put(config.model_copy(update={"detector": config.detector.model_copy(update={"threads": 1})}))
        pending = {task.remote(shared, config.base_dir, chain, registrations): chain for chain, registrations in jobs}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                chain = pending.pop(ref)
                try:
                    yield from ray.get(ref)
                except ray.exceptions.RayError as exc:
                    why = f"the cluster could not analyse it ({type(exc).__name__}: {str(exc).splitlines()[0]})"
                    yield from (FileResult(r, error=why) for r in chain.recordings)
    finally:
        ray.shutdown()


def _chain_task(config: Config, base_dir: Any, chain: Chain, registrations: list[RegistrationLeft]) -> list[FileResult]:
    """Runs on a cluster node. The config's relative paths (a custom model) resolve against the
    config's folder as the driver saw it: that folder must be on the shared storage too."""
    config._base_dir = base_dir
    detectors = CameraDetectors(config)
    found = analyse_chain(config, chain, registrations, detectors.get(chain.camera), detectors.night(chain.camera))
    return [item for item in found if isinstance(item, FileResult)]


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise GatewatchError(
            "--ray needs Ray, which the edge install leaves out: pip install 'gatewatch[cluster]' "
            "(on this machine and every node of the cluster)"
        ) from None
    return ray
