"""The live service: every configured camera at once, one shared detector, one recorder, alerts.

    LiveStream (thread per camera) -> CameraWorker (thread per camera: CameraPipeline)
        -> SharedDetector (one thread, batches across cameras)
        -> Recorder (one thread: rules, snapshots, SQLite) -> Hub (browsers)
        + Dispatcher (MQTT, webhooks, DC-09 receivers, evidence to the centre)

Stopping (SIGTERM, Ctrl-C) goes downstream: streams stop reading, each worker finishes the frame
in hand and the crossings still waiting for confirmation, the recorder stores all of them, the
dispatcher finishes the send in progress (the rest stays pending in the database), MQTT says
offline, streams close.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.alerts.dc09 import Dc09Sender
from pipeline.alerts.evidence import EvidencePush
from pipeline.alerts.mqtt import MqttLink
from pipeline.alerts.outbox import Dispatcher, Sender
from pipeline.alerts.webhooks import WebhookSender
from pipeline.camera import CameraPipeline
from pipeline.clips import Clip, ClipCollector
from pipeline.config import Config
from pipeline.db import Alarm, Event, Store, ThreadStores, Trouble
from pipeline.detectors import CameraDetectors, Detector
from pipeline.detectors.shared import SharedDetector
from pipeline.lighting import Lighting
from pipeline.live.alarms import Alarms
from pipeline.live.hub import Hub
from pipeline.live.recorder import Recorded, Recorder
from pipeline.live.stream import LiveStream, RateMeter, StreamHealth
from pipeline.live.troubles import Troubles
from pipeline.messages import AlarmMessage, CameraStatus, CameraTrouble, EventMessage, MessageView, Outgoing
from pipeline.packets import PacketRing
from pipeline.pieces import files_of
from pipeline.records import Detections, Frame
from pipeline.vocabulary import CameraState, EvidencePiece, MessageCode, Urgency
from pipeline.wording import Message

log = logging.getLogger("gatewatch.serve")

EVIDENCE_TARGET = "center"  # the outbox's name for pushing evidence to the district centre

STOP_TIMEOUT_S = 10.0
LATENCY_SMOOTHING = 0.2  # weight of the newest detector call in the running average
CLIP_LATE_MARGIN_S = 5.0  # how far the recorder may lag behind the camera before a clip loses its start


class CameraWorker:
    """Runs one camera's stages on the frames its stream hands over."""

    def __init__(
        self,
        name: str,
        config: Config,
        stream: LiveStream,
        detector: SharedDetector,
        night: SharedDetector | None,
        recorder: Recorder,
        on_problem: Callable[[str], None],
    ) -> None:
        """`night`: the camera's night model (`cameras.X.night_model`), if it has one."""
        self.name = name
        self.on_problem = on_problem
        self.config = config
        self.stream = stream
        self.detector = detector
        self.night = night
        self.recorder = recorder
        self.latest: Frame | None = None
        self.frames_analysed = 0
        self.frames_detected = 0
        self.detector_ms = 0.0
        self.lighting: Lighting | None = None  # what the picture looks like now (day, infrared, low light)
        self.analysed = RateMeter()
        # Clips may be asked for once a crossing is confirmed, stored and handed back: keep that long.
        late_s = config.crossing.confirm_s + config.tracker.lost_track_s + CLIP_LATE_MARGIN_S
        self.clips: ClipCollector | None = None
        if config.clips.enabled:
            reach_s = config.clips.before_s + config.clips.after_s + late_s  # how far back a cut may reach
            stream.packets = PacketRing(reach_s)
            self.clips = ClipCollector(config.clips, late_s, stream.packets)
        self.problem: Message | None = None  # found once frames arrive (lines outside the picture)
        self.pipeline: CameraPipeline | None = None  # the stages of the frames now arriving
        self.stepping: Frame | None = None  # the frame in analysis (the detector serves by its arrival)
        self._thread = threading.Thread(target=self._run, name=f"camera-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _detect(self, image: Any) -> Detections:
        return self._timed(self.detector, image)

    def _detect_night(self, image: Any) -> Detections:
        return self._timed(self.night or self.detector, image)

    def _timed(self, detector: SharedDetector, image: Any) -> Detections:
        started = time.perf_counter()
        urgency = self.pipeline.urgency if self.pipeline is not None else None
        arrived = self.stepping.ts.timestamp() if self.stepping is not None else None
        found = detector.detect(image, urgency or Urgency.CHANGED, arrived)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.detector_ms += LATENCY_SMOOTHING * (elapsed_ms - self.detector_ms) if self.detector_ms else elapsed_ms
        return found

    def _run(self) -> None:
        pipeline: CameraPipeline | None = None
        size: tuple[int, int] | None = None
        for frame in self.stream.frames():
            frame_size = (frame.image.shape[1], frame.image.shape[0])
            if frame_size != size:
                if pipeline is not None:
                    self._submit(pipeline.finish())
                size = frame_size
                pipeline = self.pipeline = self._pipeline_for(size)
            if pipeline is None:
                continue
            if frame.skimmed:  # idle: only looked at, for a change since the detector last ran
                self.latest = frame
                pipeline.lighting.offer(frame.image)
                self.lighting = pipeline.lighting.last
                if pipeline.gate.changed(frame.image):
                    self.stream.changed(frame)
                continue
            try:
                self.stepping = frame
                step = pipeline.step(frame)
            except Exception:
                log.exception("camera %s: analysis failed on a frame; skipping it", self.name)
                continue
            moving = pipeline.urgency in (Urgency.CROSSING, Urgency.TRACKED)
            self.stream.analysed(frame, not step.detected and not step.pending, moving)
            if self.clips is not None:
                self._save_clips(self.clips.offer(frame))
            self.latest = frame
            self.lighting = pipeline.lighting.last
            self.frames_analysed += 1
            self.analysed.tick(time.monotonic())
            self.frames_detected += step.detected
            self._submit(step.crossings)
        if pipeline is not None:
            self._submit(pipeline.finish())
        if self.clips is not None:
            self._save_clips(self.clips.finish())

    def _save_clips(self, clips: list[Clip]) -> None:
        for clip in clips:
            self.recorder.submit_clip(clip)

    def _pipeline_for(self, size: tuple[int, int]) -> CameraPipeline | None:
        outside = self.config.cameras[self.name].outside(size)
        if outside:
            values = {"camera": self.name, "key": outside[0], "problem": outside[1], "size": f"{size[0]}x{size[1]}"}
            self.problem = Message(MessageCode.OUTSIDE_PICTURE, values)
            log.error("camera %s not analysed: %s", self.name, self.problem.text())
            self.on_problem(self.name)
            return None
        self.problem = None
        night = self._detect_night if self.night else None
        return CameraPipeline(self.config, self.name, size, self.config.sampling.fps, self._detect, night)

    def _submit(self, crossings: list[Any]) -> None:
        for crossing, frame in crossings:
            self.recorder.submit(crossing, frame)


class Service:
    def __init__(
        self, config: Config, db_path: Path, snapshot_dir: Path, public_url: str, detector: Detector | None = None
    ) -> None:
        """`detector` replaces the configured one (tests, benchmarks); loaded from the config otherwise."""
        self.config = config
        self.db_path = db_path
        self.public_url = public_url
        self.started = datetime.now(UTC)
        self.session = f"live {self.started.astimezone(config.tz):%Y-%m-%dT%H:%M:%S%z}"
        self.hub = Hub()
        with Store(db_path) as store:  # schema and site facts before any thread opens the database
            store.set_meta({"timezone": config.timezone, "site": config.site.name})
            store.outages.end(self.started)  # left open by a run that died: it saw nothing after
        self.stores = ThreadStores(db_path)
        self.detectors, chosen = _shared_detectors(config, detector)

        self.alarms = Alarms(config, db_path, self.hub.publish)
        self.raise_alarm = self.alarms.raise_  # a person's alarm (the web's live side)
        mqtt = config.mqtt_resolved()
        self.mqtt = MqttLink(mqtt, config.site.name, list(config.cameras), self.alarms.acknowledged) if mqtt else None
        senders: dict[str, Sender] = {f"webhook:{i}": WebhookSender(w, config) for i, w in enumerate(config.webhooks)}
        if self.mqtt is not None:
            senders = {"mqtt": self.mqtt, **senders}
        self.targets = list(senders)  # events, and an alarm's later reason
        zones = {name: number for number, name in enumerate(config.cameras, start=1)}
        receivers = {f"dc09:{r.name}": Dc09Sender(r, zones) for r in config.alarm_receivers}
        self.alarm_targets = [*self.targets, *receivers]  # an alarm, once: receiving centres act on it
        center = config.center_resolved()
        pushes: dict[str, Sender] = {}
        if center is not None and mqtt is not None and mqtt.site_key is not None:  # the config says both or none
            pushes[EVIDENCE_TARGET] = EvidencePush(center, config.site.name, mqtt.site_key, self._files_of)
        self.evidence_targets = list(pushes)  # a flagged event's files, and again once its clip is written
        troubled = [f"dc09:{r.name}" for r in config.alarm_receivers if r.camera_troubles]
        self.dispatcher = Dispatcher(
            db_path,
            {**senders, **receivers, **pushes},
            config.alerts,
            self.message,
            lambda alarm_id: self.hub.publish({"type": "alarm", "id": alarm_id}),  # the guards see it got there
        )
        self.troubles = (
            Troubles(db_path, troubled, config.alerts.camera_trouble_after_s, self.dispatcher.wake)
            if troubled
            else None
        )
        self.recorder = Recorder(
            config,
            db_path,
            snapshot_dir,
            self.session,
            self.started,
            [*self.targets, *self.evidence_targets],
            lambda: {name: w.frames_analysed for name, w in self.workers.items()},
            self._on_recorded,
            self._on_clip,
        )
        self.streams = {
            name: LiveStream(name, camera, config.live, config.sampling.fps, config.tz, config.resolve, self._on_state)
            for name, camera in config.cameras.items()
        }
        self.workers = {
            name: CameraWorker(
                name,
                config,
                stream,
                *chosen[name],
                self.recorder,
                lambda n: self._on_state(n, self.streams[n].health),
            )
            for name, stream in self.streams.items()
        }

    def message(self, record: Event | Alarm | Trouble) -> Outgoing:
        """What goes out for a stored event or alarm (an escalation with the thumbnail and
        evidence digests of its event), or a camera's trouble (to alarm receivers)."""
        if isinstance(record, Trouble):
            since = record.started_at.astimezone(self.config.tz).isoformat()
            return CameraTrouble(
                site=self.config.site.name, camera=record.camera, since=since, restored=record.restored
            )
        site, places = self.config.site.name, self.config.places
        if isinstance(record, Alarm):
            event = self.stores.get().events.get(record.event_id) if record.event_id else None
            name = places.camera(record.camera) if record.camera else None
            return AlarmMessage.of(record, site, self.public_url, event, name)
        return EventMessage.of(record, site, self.public_url, places.camera(record.camera))

    def _files_of(self, event_id: int) -> dict[EvidencePiece, Path]:
        event = self.stores.get().events.get(event_id)
        return files_of(event.snapshot_path, event.crop_path, event.clip_path) if event else {}

    def start(self) -> None:
        self.recorder.start()
        self.dispatcher.start()
        self.alarms.start(self.alarm_targets, self.dispatcher.wake)
        if self.troubles is not None:
            self.troubles.start()
        for worker in self.workers.values():
            worker.start()
        for stream in self.streams.values():
            stream.start()
        log.info("serving %d camera(s): %s", len(self.streams), ", ".join(self.streams))

    def stop(self) -> None:
        log.info("stopping: finishing frames in hand and storing pending crossings")
        for stream in self.streams.values():
            stream.stop()
        for worker in self.workers.values():
            worker.join(STOP_TIMEOUT_S)
        self.recorder.close(STOP_TIMEOUT_S)
        self.alarms.stop(STOP_TIMEOUT_S)
        if self.troubles is not None:
            self.troubles.stop(STOP_TIMEOUT_S)
        self.dispatcher.stop(STOP_TIMEOUT_S)
        for stream in self.streams.values():
            stream.join(STOP_TIMEOUT_S)
        if self.mqtt is not None:
            self.mqtt.close()
        for shared in self.detectors:
            shared.close()
        with Store(self.db_path) as store:
            store.outages.end(datetime.now(UTC))  # stopped on purpose: not the cameras' fault
        log.info("stopped")

    def _on_recorded(self, recorded: Recorded) -> None:
        crossing = recorded.crossing
        if recorded.event_id is not None:
            self.dispatcher.wake()
            self.hub.publish({"type": "event", "id": recorded.event_id})
            clips = self.workers[crossing.camera].clips
            if clips is not None and recorded.evidence is not None:
                clips.want((recorded.event_id, recorded.evidence, crossing.camera), crossing.ts)
        self.hub.publish({"type": "crossing", "camera": crossing.camera, "line": crossing.line})

    def _on_clip(self, event_id: int) -> None:
        """An event's clip is written: the centre gets it (the recorder's thread calls this)."""
        if self.evidence_targets:
            try:
                self.stores.get().deliveries.queue(event_id, self.evidence_targets, datetime.now(UTC))
            except Exception as exc:  # the clip stays on the box; the event's evidence went without it
                log.error("event #%s: could not queue its clip for the centre: %s", event_id, exc)
            self.dispatcher.wake()
        self.hub.publish({"type": "event", "id": event_id})

    def _on_state(self, camera: str, _health: StreamHealth) -> None:
        status = self.camera_status(camera)
        self._note_outage(camera, status.state, status.detail)
        if self.mqtt is not None:
            self.mqtt.camera_state(camera, status)
        self.hub.publish({"type": "camera", "camera": camera, "state": status.state})

    def _note_outage(self, camera: str, state: CameraState, detail: str) -> None:
        """Down and misconfigured time is what the report's availability per camera subtracts."""
        try:
            outages = self.stores.get().outages
            if state in (CameraState.DOWN, CameraState.MISCONFIGURED):
                outages.begin(camera, datetime.now(UTC), detail)
            elif state == CameraState.LIVE:
                outages.end(datetime.now(UTC), camera)
        except Exception as exc:  # bookkeeping: a locked database must not stop the camera's thread
            log.warning("could not record the state of camera %s: %s", camera, exc)

    def camera_status(self, name: str) -> CameraStatus:
        stream, worker = self.streams[name], self.workers[name]
        health = stream.health
        state, detail, messages = health.state, health.detail, health.messages
        if worker.problem:
            state, detail, messages = CameraState.MISCONFIGURED, worker.problem.text(), (worker.problem,)
        return CameraStatus(
            name=name,
            source=stream.label,
            state=state,
            since=health.since.isoformat() if health.since else None,
            detail=detail,
            messages=[view for view in map(MessageView.of, messages) if view is not None],
            last_frame_at=health.last_frame_at.isoformat() if health.last_frame_at else None,
            frames_in=health.frames_in,
            frames_sampled=health.frames_sampled,
            frames_dropped=health.frames_dropped,
            frames_dropped_moving=health.frames_dropped_moving,
            frames_skimmed=health.frames_skimmed,
            skimming=health.skimming and health.state == CameraState.LIVE,
            reconnects=health.reconnects,
            fps_in=health.fps_in,
            width=health.width,
            height=health.height,
            fps_analysed=round(worker.analysed.per_s, 1) if health.state == CameraState.LIVE else 0.0,
            frames_analysed=worker.frames_analysed,
            frames_detected=worker.frames_detected,
            detector_ms=round(worker.detector_ms, 1),
            lighting=worker.lighting,
        )

    # What the web asks of the live side (`web.box.LiveSide`).

    def cameras(self) -> list[CameraStatus]:
        return [self.camera_status(name) for name in self.streams]

    def latest_frame(self, camera: str, watched: bool = False) -> Frame | None:
        if watched:
            self.streams[camera].viewed()
        return self.workers[camera].latest

    def alarm_changed(self, store: Store, alarm_id: int) -> None:
        """A guard added the reason of an alarm raised in one tap: the centre and the webhooks get it
        too; an alarm receiving centre does not (DC-09 carries no reason, and one alarm is one
        message there, never sent twice)."""
        store.deliveries.queue_alarm(alarm_id, self.targets, datetime.now(UTC))
        self.dispatcher.wake()
        self.hub.publish({"type": "alarm", "id": alarm_id})

    def event_changed(self, store: Store, event_id: int) -> None:
        """A review changed an event: tell the browsers and send it out again with its new status.
        `store` is the caller's connection (web requests have one per thread)."""
        store.deliveries.queue(event_id, self.targets, datetime.now(UTC))
        self.dispatcher.wake()
        self.hub.publish({"type": "event", "id": event_id})


def _shared_detectors(
    config: Config, given: Detector | None
) -> tuple[list[SharedDetector], dict[str, tuple[SharedDetector, SharedDetector | None]]]:
    """Every camera's day and night detectors: one batching detector per model file, shared by the
    cameras that use it, its calls `live.detector_workers` at a time (each on `detector.threads`
    cores, one unless set). A `given` detector (tests, benchmarks) serves every camera, day and
    night, one call at a time, on the threads it was loaded with."""
    if given is not None:
        one = SharedDetector(given, config.live.max_batch)
        return [one], {name: (one, None) for name in config.cameras}
    workers = config.live.detector_workers or os.cpu_count() or 1
    threads = config.detector.threads or (1 if workers > 1 else None)
    detector = config.detector.model_copy(update={"threads": threads})
    models = CameraDetectors(config.model_copy(update={"detector": detector}))  # loads each model file once
    by_model: dict[int, SharedDetector] = {}

    def shared(found: Detector) -> SharedDetector:
        if id(found) not in by_model:
            by_model[id(found)] = SharedDetector(found, config.live.max_batch, workers)
        return by_model[id(found)]

    chosen = {}
    for name in config.cameras:
        night = models.night(name)
        chosen[name] = (shared(models.get(name)), shared(night) if night else None)
    return list(by_model.values()), chosen
