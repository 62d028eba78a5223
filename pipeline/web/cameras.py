"""/api/cameras: each camera's health, and its latest analysed frame with the lines drawn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import cv2
import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from pipeline.config import CameraConfig
from pipeline.messages import CameraStatus
from pipeline.records import Frame
from pipeline.snapshots import draw_shapes
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import UserDep
from pipeline.wording import Language

router = APIRouter(prefix="/api", tags=["cameras"])
JPEG_QUALITY = 80
LIVE_FPS = 5  # enough to see who is at the gate; each frame is one JPEG encode on the box
BOUNDARY = "frame"


class LiveJpegs:
    """Each camera's newest analysed frame, drawn and encoded once however many pages watch it
    (the gate's guard, the duty room's screen, a phone): the encode is shared, not repeated per
    viewer. Lives on the event loop; one frame per camera is held."""

    def __init__(self) -> None:
        self._newest: dict[str, tuple[Frame, asyncio.Future[bytes]]] = {}
        self.encoded = 0  # frames encoded so far (the live view benchmark reads it)

    def of(self, name: str, frame: Frame, camera: CameraConfig, language: Language) -> asyncio.Future[bytes]:
        held = self._newest.get(name)
        if held is None or held[0] is not frame:
            encoding = asyncio.ensure_future(asyncio.to_thread(_jpeg, frame.image, camera, language))
            held = self._newest[name] = (frame, encoding)
            self.encoded += 1
        return held[1]


@router.get("/cameras")
def cameras(box: BoxDep, _: UserDep) -> list[CameraStatus]:
    """Health of every camera: state and why, fps in, frames analysed and dropped, reconnects,
    detector latency."""
    return box.live.cameras()


@router.get("/cameras/{name}/frame.jpg", response_class=Response)
def camera_frame(name: str, box: BoxDep, _: UserDep) -> Response:
    """The most recent analysed frame with the camera's lines and zones drawn."""
    frame = _latest(box, name)
    if frame is None:
        raise HTTPException(404, f"no frame from {name} yet")
    data = _jpeg(frame.image, box.config.cameras[name], box.config.language)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/cameras/{name}/live.mjpg", response_class=StreamingResponse)
async def camera_live(
    name: str,
    request: Request,
    box: BoxDep,
    _: UserDep,
    overview: Annotated[
        bool, Query(description="one of many on a screen: an idle camera's keyframes do, it is not decoded in full")
    ] = False,
) -> StreamingResponse:
    """The camera as it is analysed, lines and zones drawn, as motion JPEG (up to 5 frames a
    second): a browser shows it in a plain <img>, no plug-in, no polling. Watching one camera
    keeps it decoded in full; an overview of them all leaves idle ones skimming."""
    _latest(box, name)  # 404 for a camera that is not configured
    camera = box.config.cameras[name]
    jpegs: LiveJpegs = request.app.state.live_jpegs

    async def parts() -> AsyncIterator[bytes]:
        shown = None
        while not await request.is_disconnected():
            frame = box.live.latest_frame(name, watched=not overview)
            if frame is not None and frame is not shown:
                shown = frame
                data = await asyncio.shield(jpegs.of(name, frame, camera, box.config.language))
                yield b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(data), data)
            await asyncio.sleep(1 / LIVE_FPS)

    return StreamingResponse(
        parts(), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}", headers={"Cache-Control": "no-store"}
    )


def _latest(box: Box, name: str) -> Frame | None:
    if name not in box.config.cameras:
        raise HTTPException(404, f"no camera {name!r}")
    return box.live.latest_frame(name)


def _jpeg(image: np.ndarray, camera: CameraConfig, language: Language) -> bytes:
    _, data = cv2.imencode(".jpg", draw_shapes(image, camera, language), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return data.tobytes()
