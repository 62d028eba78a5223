"""`gatewatch serve`: the same stages as `analyze`, fed by live streams, around the clock.

stream.py    one camera: reconnect with back-off, stall watchdog, drop-oldest queue, health
service.py   every camera at once: workers, the shared detector, start and stop; the web's live side
recorder.py  rules, snapshots and SQLite, in one writer thread
alarms.py    one-click and escalated alarms, and automatic escalation
troubles.py  a camera down too long, and its return, for alarm receiving centres
periodic.py  a check made every few seconds in its own thread (escalations, troubles)
hub.py       news fanned out to the open pages
"""
