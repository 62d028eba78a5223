"""Registrations (visitor book, card swipes, guard authorisations) and matching entries to them.

model.py      `Registration`: who may come in, where, when, how many; `RegistrationLeft`: and how many still
parsing.py    `parse_registration`: the checks every way in goes through
csv_files.py  access-control and visitor-book exports (encodings, column maps)
book.py       the one matching rule: `take` for entries, `claim` for open alerts
"""

from pipeline.registrations.book import LiveBook, OpenAlert, RegistrationBook
from pipeline.registrations.csv_files import ENCODINGS, CsvRegistrations, RowError, read_registrations_csv
from pipeline.registrations.model import Registration, RegistrationLeft
from pipeline.registrations.parsing import FIELDS, parse_duration, parse_registration, parse_time

__all__ = [
    "ENCODINGS",
    "FIELDS",
    "CsvRegistrations",
    "LiveBook",
    "OpenAlert",
    "Registration",
    "RegistrationBook",
    "RegistrationLeft",
    "RowError",
    "parse_duration",
    "parse_registration",
    "parse_time",
    "read_registrations_csv",
]
