"""/api/cameras: each camera's health, and its latest analysed frame with the lines drawn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import cv2
import numpy as np
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from pipeline.config import CameraConfig
from pipeline.live.service import CameraWorker
from pipeline.snapshots import draw_shapes
from pipeline.vocabulary import CameraState
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import UserDep
from pipeline.web.views import MessageView

router = APIRouter(prefix="/api", tags=["cameras"])
JPEG_QUALITY = 80
LIVE_FPS = 5  # enough to see who is at the gate; each frame is one JPEG encode on the box
BOUNDARY = "frame"


class CameraStatus(BaseModel):
    """What a guard needs to trust a camera: is it live, and if not, why (in words to act on)."""

    name: str
    source: str = Field(description="the camera's address, password removed")
    state: CameraState
    since: str | None
    detail: str
    messages: list[MessageView] = Field(default_factory=list, description="the detail, for the page to word")
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
    worker = _worker(box, name)
    if worker.latest is None:
        raise HTTPException(404, f"no frame from {name} yet")
    data = _jpeg(worker.latest.image, box.config.cameras[name])
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/cameras/{name}/live.mjpg", response_class=StreamingResponse)
async def camera_live(name: str, request: Request, box: BoxDep, _: UserDep) -> StreamingResponse:
    """The camera as it is analysed, lines and zones drawn, as motion JPEG (up to 5 frames a
    second): a browser shows it in a plain <img>, no plug-in, no polling."""
    worker = _worker(box, name)
    camera = box.config.cameras[name]

    async def parts() -> AsyncIterator[bytes]:
        shown = None
        while not await request.is_disconnected():
            frame = worker.latest
            if frame is not None and frame is not shown:
                shown = frame
                data = await asyncio.to_thread(_jpeg, frame.image, camera)
                yield b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(data), data)
            await asyncio.sleep(1 / LIVE_FPS)

    return StreamingResponse(
        parts(), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}", headers={"Cache-Control": "no-store"}
    )


def _worker(box: Box, name: str) -> CameraWorker:
    worker = box.service.workers.get(name)
    if worker is None:
        raise HTTPException(404, f"no camera {name!r}")
    return worker


def _jpeg(image: np.ndarray, camera: CameraConfig) -> bytes:
    _, data = cv2.imencode(".jpg", draw_shapes(image, camera), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return data.tobytes()
