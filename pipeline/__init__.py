"""gatewatch: unregistered entries at school gates, from camera footage.

A map to read first. Data flows one way, one stage per module, dataclasses between them:

    sources.py ─Frame─▶ motion.py ─▶ detectors/ ─Detections─▶ tracking.py ─Track─▶ crossings.py
    ─Crossing─▶ rules.py (schedule.py, registrations/) ─Decision─▶ snapshots.py, clips.py ─Outcome─▶ db/

The stages and what they share
    records.py      the dataclasses between stages       vocabulary.py  every closed set of words (enums)
    errors.py       InvalidInput(field) / NotFound / Conflict: what kind of problem, not how to word it
    config/         the YAML file, a module per section   geometry.py    lines and zones in pixels
    clock.py        when a recording started              lighting.py    day, infrared or low light
    term_calendar.py  mainland China's holidays and make-up workdays, the schedules' default
    night_looks.py  a day frame as an IR / low-light camera would deliver it (adapt, benchmarks)
    camera.py       one camera, frame to crossing (shared by the offline and the live run)
    stature.py      a person's height where their feet are, per camera (weak detections at night)
    wording.py      messages and names in Chinese and English, worded when shown
    messages.py     what leaves the box (events, alarms, acks, camera health): one pydantic model each
    pieces.py       an event's evidence as it travels: the message's thumbnail, each file's SHA-256
    packets.py      a live camera's own H.264/H.265 packets, and clips cut from them (no re-encode)
    signing.py      who sent a message: HMAC with the key a school and its centre share
The two runs
    offline/        `analyze`: footage.py (an NVR export), prepare.py, chain.py, results.py, analyze.py
                    (one file), batch.py (worker processes), cluster.py (Ray)
    live/           `serve`: stream.py (skimming.py: idle cameras a keyframe at a time), service.py,
                    recorder.py, alarms.py, hub.py
Around them
    db/             the only SQL: schema, Store, one repository per record kind, returning dataclasses
    review.py       event lifecycle, late registrations, export, prune     users.py   logins, sessions
    patrols.py      patrol rounds due on a night, done or overdue (24-hour duty)
    report.py       daily/monthly report (report_words.py, templates/)     evaluation.py  scoring
    adapt/          `gatewatch adapt`: one camera's night model from its own footage (numpy, no labels)
    alerts/         outbox, MQTT, webhooks, DC-09,        center.py      the district centre's subscriber
                    evidence pushed to the centre
    web/            FastAPI: one router per resource      cli/           the `gatewatch` commands
    files.py  fonts.py  redact.py  spreadsheet.py         small helpers: atomic writes, CJK fonts,
                                                          passwords out of URLs, formula-safe CSV

Rules of the house: stages do not import each other sideways; time comes in on each frame, never
from the clock inside a stage; domain code raises with the field, front ends word it.
"""

__version__ = "0.1.0"
