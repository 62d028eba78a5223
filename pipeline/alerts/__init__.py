"""Alerts out of the box: MQTT and webhooks, fed from the `deliveries` outbox in the database."""
