"""The guard web UI and JSON API (FastAPI), served by `serve`; the district centre's list by `center`."""
