"""/api/cameras: each camera's health, and its latest analysed frame with the lines drawn."""

from __future__ import annotations

import cv2
from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from pipeline.snapshots import draw_shapes
from pipeline.vocabulary import CameraState
from pipeline.web.box import BoxDep
from pipeline.web.common import UserDep

router = APIRouter(prefix="/api", tags=["cameras"])
JPEG_QUALITY = 80


class CameraStatus(BaseModel):
    """What a guard needs to trust a camera: is it live, and if not, why (in words to act on)."""

    name: str
    source: str = Field(description="the camera's address, password removed")
    state: CameraState
    since: str | None
    detail: str
    last_frame_at: str | None
    frames_in: int
    frames_sampled: int
    frames_dropped: int = Field(description="sampled but overtaken by newer ones before analysis took them")
    reconnects: int
    fps_in: float
    width: int
    height: int
    fps_analysed: float
    frames_analysed: int
    frames_detected: int
    detector_ms: float
    lighting: str | None


@router.get("/cameras")
def cameras(box: BoxDep, _: UserDep) -> list[CameraStatus]:
    """Health of every camera: state and why, fps in, frames analysed and dropped, reconnects,
    detector latency."""
    return [CameraStatus(**status) for status in box.service.cameras()]


@router.get("/cameras/{name}/frame.jpg", response_class=Response)
def camera_frame(name: str, box: BoxDep, _: UserDep) -> Response:
    """The most recent analysed frame with the camera's lines and zones drawn."""
    worker = box.service.workers.get(name)
    if worker is None:
        raise HTTPException(404, f"no camera {name!r}")
    if worker.latest is None:
        raise HTTPException(404, f"no frame from {name} yet")
    image = draw_shapes(worker.latest.image, box.config.cameras[name])
    _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return Response(data.tobytes(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})
