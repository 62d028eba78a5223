"""Thin adapter over Roboflow `trackers` (ByteTrack / OC-SORT): detections in, confirmed tracks out.

The library does the association; this module only converts types, feeds real timestamps (so
the Kalman filters stay right when frames are skipped) and drops unconfirmed detections, whose
shared id -1 would otherwise merge strangers into one track.
"""

from __future__ import annotations

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker, OCSORTTracker

from pipeline.config import TrackerConfig
from pipeline.records import Detections, Track


class Tracker:
    def __init__(self, config: TrackerConfig, fps: float, high_confidence: float) -> None:
        # The library counts its lost-track buffer in 30 fps frames whatever the real rate.
        lost_buffer = max(1, round(config.lost_track_s * 30))
        self._tracker: ByteTrackTracker | OCSORTTracker
        if config.type == "ocsort":
            self._tracker = OCSORTTracker(
                lost_track_buffer=lost_buffer,
                frame_rate=fps,
                minimum_consecutive_frames=2,
                high_conf_det_threshold=high_confidence,
            )
        else:
            self._tracker = ByteTrackTracker(
                lost_track_buffer=lost_buffer,
                frame_rate=fps,
                track_activation_threshold=high_confidence,
                minimum_consecutive_frames=2,
                high_conf_det_threshold=high_confidence,
            )

    def update(self, detections: Detections, pts: float) -> list[Track]:
        sv_detections = sv.Detections(
            xyxy=detections.xyxy.astype(np.float32).reshape(-1, 4),
            confidence=detections.confidence.astype(np.float32),
        )
        tracked = self._tracker.update(sv_detections, timestamp=pts)
        if tracked.tracker_id is None:
            return []
        confidences = tracked.confidence if tracked.confidence is not None else np.ones(len(tracked))
        return [
            Track(int(track_id), (float(x1), float(y1), float(x2), float(y2)), float(conf))
            for (x1, y1, x2, y2), track_id, conf in zip(tracked.xyxy, tracked.tracker_id, confidences, strict=True)
            if track_id >= 0
        ]
