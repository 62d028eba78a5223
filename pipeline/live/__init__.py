"""`gatewatch serve`: the same stages as `analyze`, fed by live streams, around the clock."""
