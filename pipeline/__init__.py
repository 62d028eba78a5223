"""gatewatch: unregistered entries at school gates, from camera footage.

A map to read first. Data flows one way, one stage per module, dataclasses between them:

    sources.py ─Frame─▶ motion.py ─▶ detectors/ ─Detections─▶ tracking.py ─Track─▶ crossings.py
    ─Crossing─▶ rules.py (schedule.py, registrations/) ─Decision─▶ snapshots.py ─Outcome─▶ db/

    records.py      the dataclasses between stages       vocabulary.py  every closed set of words (enums)
    errors.py       InvalidInput(field) / NotFound / Conflict: what kind of problem, not how to word it
    config/         the YAML file, a module per section   geometry.py    lines and zones in pixels
    camera.py       one camera, frame to crossing (shared by the offline and the live run)
    analyze.py      the offline run of one recording      live/          `serve`: streams, workers, recorder
    db/             the only SQL: schema, Store, one repository per record kind, returning dataclasses
    review.py       event lifecycle, late registrations, export, prune      report.py  daily/monthly report
    alerts/         outbox, MQTT, webhooks                center.py      the district centre's subscriber
    web/            FastAPI: one router per resource      cli/           the `gatewatch` commands

Rules of the house: stages do not import each other sideways; time comes in on each frame, never
from the clock inside a stage; domain code raises with the field, front ends word it.
"""

__version__ = "0.1.0"
