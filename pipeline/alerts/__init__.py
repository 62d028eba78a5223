"""Alerts out of the box: MQTT, webhooks, alarm receiving centres and evidence to the district
centre, fed from the `deliveries` outbox in the database.

outbox.py    `Dispatcher`: pending deliveries sent per target, retried with back-off
mqtt.py      `MqttLink`: events, alarms, availability with last wills, the centre's confirmations
webhooks.py  `WebhookSender`: events and alarms POSTed as JSON, or to a WeCom or DingTalk group robot
dc09.py      `Dc09Sender`: alarms to alarm receiving centres over SIA DC-09, acknowledged
evidence.py  `EvidencePush`: an event's snapshot, crop and clip to the centre, signed by their SHA-256
"""
