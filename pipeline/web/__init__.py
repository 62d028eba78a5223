"""The guard web UI and JSON API (FastAPI), served by `serve`; the district centre's list by `center`.

app.py           the box's app: the guard's page and the routers
box.py           what the routes share, and `LiveSide`: what they ask of the live service
events.py        /api/events and the event page       registrations.py  /api/registrations
cameras.py       /api/cameras, frames, the live view  alarms.py         /api/alarms (一键报警)
reports.py       the report pages                     users.py          /api/users, login pages
patrols.py       /api/patrols: rounds recorded, due and overdue
views.py         response models several routers share
common.py        login, sessions, body limit and deadline, same origin, CSP, error statuses, docs
throttle.py      login back-off, one hash at a time, load shedding
connections.py   slow headers cut, connections per address capped (uvicorn's protocol)
i18n.py          Chinese and English labels            center_app.py     the district centre's app
"""
