"""Before a chain of files is analysed, wherever it runs: the config's registrations stored once
per content, and the registrations that may excuse the chain's entries read with the entries each
has left. The one-file run and a batch prepare the same way."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from pipeline.config import Config
from pipeline.db import Store
from pipeline.errors import GatewatchError
from pipeline.offline.footage import Chain
from pipeline.registrations import Registration, RegistrationLeft, read_registrations_csv


class Job(NamedTuple):
    """One chain to analyse, with the registrations that may excuse its entries."""

    chain: Chain
    registrations: list[RegistrationLeft]


def prepare(store: Store, config: Config, config_csv: ConfigRegistrations | None, chain: Chain, at: datetime) -> Job:
    """The site's facts and the config's registrations stored; the chain with the registrations
    that may excuse its entries, and the entries each has left."""
    store.set_meta({"timezone": config.timezone, "site": config.site.name})
    if config_csv is not None:
        config_csv.sync(store, at)
    videos = [str(r.path) for r in chain.recordings]
    return Job(
        chain, store.registrations.valid(overlapping=_registration_span(config, chain), rerun=(chain.camera, videos))
    )


def load_config_registrations(config: Config) -> list[Registration]:
    """The config's CSV, all rows or none: an analysis with half a visitor book would flag visitors
    who did register. Every bad row is listed, not just the first."""
    if config.registrations.csv is None:
        return []
    path = config.resolve(config.registrations.csv)
    loaded = read_registrations_csv(path, config.tz, config.scopes(), origin=f"config {path}", created_by="config")
    if loaded.bad:
        rows = "; ".join(f"row {e.row}: {e.message}" for e in loaded.bad)
        raise GatewatchError(f"{path}: {rows}")
    return loaded.good


@dataclass(frozen=True)
class ConfigRegistrations:
    """The config's CSV as this run must store it. A file whose content the database already holds
    (same digest) is neither parsed nor synced again: with a million rows that took longer than
    the analysis. A changed file is parsed in full before anything is written."""

    config: Config
    origin: str
    digest: str
    rows: list[Registration] | None  # None: the database already held this content when checked

    @classmethod
    def read(cls, config: Config, db_path: Path) -> ConfigRegistrations | None:
        if config.registrations.csv is None:
            return None
        path = config.resolve(config.registrations.csv)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            raise GatewatchError(f"{path}: registrations file not found") from None
        except OSError as exc:
            raise GatewatchError(f"{path}: cannot read ({exc.strerror})") from None
        origin = f"config {path}"
        if db_path.is_file():
            with Store(db_path, readonly=True) as store:
                if store.meta(_digest_key(origin)) == digest:
                    return cls(config, origin, digest, None)
        return cls(config, origin, digest, load_config_registrations(config))

    def sync(self, store: Store, at: datetime) -> None:
        if store.meta(_digest_key(self.origin)) == self.digest:
            return
        rows = self.rows if self.rows is not None else load_config_registrations(self.config)
        with store.write("save the config's registrations", "; none were saved"):
            store.registrations.sync(self.origin, rows, at)
            store.set_meta({_digest_key(self.origin): self.digest})


def _digest_key(origin: str) -> str:
    return f"digest of {origin}"


def _registration_span(config: Config, chain: Chain) -> tuple[datetime, datetime] | None:
    """The times a registration must touch to matter for these files: their span (with slack for
    containers that misstate lengths) widened by the longest registration window of any rule."""
    if not chain.duration_s:
        return None
    margin = timedelta(seconds=max((rule.window for rule in config.rules), default=0.0) + 60)
    first, last = chain.recordings[0], chain.recordings[-1]
    slack = timedelta(seconds=last.duration_s * 0.1)
    return first.start - margin, last.end + slack + margin
