"""Alerts out of the box: MQTT and webhooks, fed from the `deliveries` outbox in the database.

outbox.py    `Dispatcher`: pending deliveries sent per target, retried with back-off
mqtt.py      `MqttLink`: events, alarms, availability with last wills, the centre's confirmations
webhooks.py  `WebhookSender`: events and alarms POSTed as JSON
"""
