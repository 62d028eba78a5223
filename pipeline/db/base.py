"""What every repository holds: the store it reads and writes through."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlite_utils

if TYPE_CHECKING:
    from pipeline.db.store import Store


class Repository:
    """Writes go through `store.write()`, so a repository's method joins a transaction the caller
    opened (review and registration changes commit together) or makes its own."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def db(self) -> sqlite_utils.Database:
        return self.store.db
