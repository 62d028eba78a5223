"""How people are found and followed: detector, frame sampling, motion gating, tracker, crossing tuning."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from pipeline.config.base import Section
from pipeline.vocabulary import Anchor


class BundledModel(StrEnum):
    """A model that ships with gatewatch, by the name a config gives it (anything else is a path)."""

    DEFAULT = "default"  # the SSDLite person model, models/ssdlite_person.onnx


def _check_low_below_high(confidence: float, low_confidence: float) -> None:
    if low_confidence > confidence:
        raise ValueError(f"low_confidence: {low_confidence:g} is above confidence {confidence:g}")


class NightConfig(Section):
    """Settings for frames the lighting check calls infrared or low light (lighting.py), where the
    network scores a person seen in grey and noise far lower than by day. Day frames keep the
    day thresholds, so nothing is paid by day for what the night needs."""

    confidence: float = Field(
        0.15, gt=0, lt=1, description="minimum score that starts a weak track at night (away from tracked people)"
    )
    low_confidence: float = Field(0.05, gt=0, lt=1, description="weaker detections that continue a track at night")
    evidence_s: float = Field(
        1.6,
        ge=0,
        le=30,
        description="a night-only (weak) track counts a crossing only when it was detected on this many "
        "seconds of analysed frames within twice that time: a person walking is seen frame after frame, a "
        "noise burst, a moth or a headlight glint for an instant",
    )
    size_tolerance: float = Field(
        2.5,
        ge=0,
        le=10,
        description="a weak detection starts or continues a track only when its height is within this factor "
        "of a person's where its feet are, learnt from the camera's confident detections (stature.py); 0: off",
    )

    @model_validator(mode="after")
    def _low_below_high(self) -> NightConfig:
        _check_low_below_high(self.confidence, self.low_confidence)
        return self


class DetectorConfig(Section):
    model: BundledModel | str = Field(
        BundledModel.DEFAULT,
        union_mode="left_to_right",
        description="`default` (the bundled SSDLite person model), or a path to a .onnx or .pt file",
    )
    type: Literal["auto", "ssdlite", "yolo", "ultralytics"] = Field(
        "auto", description="model family; `auto` tells it from the file (suffix and ONNX outputs)"
    )
    confidence: float = Field(0.4, gt=0, lt=1, description="minimum person score that starts a track")
    low_confidence: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="weaker detections down to this score only continue existing tracks (ByteTrack's second "
        "stage), which keeps people tracked through partial occlusion",
    )
    night: NightConfig = Field(default_factory=NightConfig)
    nms_iou: float = Field(0.5, gt=0, le=1, description="overlap above which the weaker of two boxes is dropped")
    threads: int | None = Field(None, ge=1, le=256, description="onnxruntime intra-op threads; default: all cores")
    tiles: Literal["auto", "off"] = Field(
        "auto",
        description="`auto`: the bundled model (SSDLite, square input) detects on overlapping 4:3 tiles of a "
        "frame wider than 4:3 (two for 16:9), where squashing the whole frame makes people too narrow to find "
        "(BENCHMARKS.md, Night: Idle video, for what tiles do at 720p); `off`: the whole frame, at half the "
        "detector cost",
    )
    region: Literal["frame", "watched"] = Field(
        "frame",
        description="`watched`: detect on the lines' and zones' surroundings (motion.margin) only, which shows "
        "small, distant people larger to the network; it cuts people who are large next to that area, so it "
        "is opt-in (see BENCHMARKS.md); `frame`: the whole frame",
    )

    @model_validator(mode="after")
    def _low_below_high(self) -> DetectorConfig:
        _check_low_below_high(self.confidence, self.low_confidence)
        return self

    @property
    def floor(self) -> float:
        """The lowest score any frame keeps: what the network is asked for, day or night."""
        return min(self.low_confidence, self.night.low_confidence)


class SamplingConfig(Section):
    fps: float = Field(5.0, gt=0, le=60, description="frames analysed per second of video")
    skim_idle: bool = Field(
        False,
        description="decode only keyframes while nothing moves (needs motion gating): many times faster on "
        "idle footage, but someone who enters and leaves the view between two keyframes is not seen",
    )


class ClipConfig(Section):
    """The short video kept with each flagged event, so a guard sees what happened, not one frame."""

    enabled: bool = Field(True, description="write an H.264 MP4 clip next to each event's snapshots")
    before_s: float = Field(5.0, ge=0, le=30, description="seconds of video before the crossing")
    after_s: float = Field(5.0, ge=0, le=30, description="seconds of video after the crossing")
    width: int = Field(640, ge=160, le=1920, description="clips wider than this are scaled down (memory, disk)")


class MotionConfig(Section):
    enabled: bool = Field(True, description="skip the detector while nothing moves near the lines and zones")
    threshold: int = Field(
        12, ge=1, le=255, description="grey-level change (on the downscaled image) that counts as motion"
    )
    min_area: float = Field(0.002, gt=0, lt=1, description="fraction of the watched area that must change")
    max_skip_s: float = Field(2.0, ge=0, le=60, description="run the detector at least this often anyway")
    margin: float = Field(
        0.2, ge=0, le=1, description="watched area: the lines and zones grown by this fraction of the frame"
    )
    width: int = Field(160, ge=16, le=1920, description="width the watched area is shrunk to for the comparison")


class TrackerConfig(Section):
    type: Literal["bytetrack", "ocsort"] = Field("bytetrack", description="tracker from Roboflow `trackers`")
    lost_track_s: float = Field(3.0, ge=0, le=30, description="how long a track survives without detections")


class CrossingConfig(Section):
    anchor: Anchor = Field(Anchor.FOOT, description="point of the box that must cross: bottom-centre (foot) or centre")
    hysteresis: float = Field(
        0.04,
        ge=0,
        le=1,
        description="dead band either side of a line, as a fraction of the person's box height",
    )
    min_hysteresis_px: float = Field(3.0, ge=0, le=1000, description="dead band floor in pixels")
    confirm_s: float = Field(
        0.3, ge=0, le=10, description="time a person must stay on the new side before a crossing counts"
    )
    stitch_distance: float = Field(
        1.0,
        ge=0,
        le=5,
        description="a new track that starts this close (in box heights) to where a track was just lost "
        "continues its line state, so an id switch at the line does not hide the crossing; 0 turns it off",
    )
