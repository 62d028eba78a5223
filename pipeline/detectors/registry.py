"""Which backend reads which model: each backend registers itself here with the model files it
takes, so adding one is a new module, not another branch in a chain that imports them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import BundledModel, Config, DetectorConfig
from pipeline.detectors.base import Detector
from pipeline.detectors.onnx import bundled_model_path
from pipeline.errors import GatewatchError

DEFAULT_KIND = "ssdlite"  # the bundled model's family


@dataclass(frozen=True)
class Backend:
    kind: str  # the config's `detector.type`
    suffixes: tuple[str, ...]  # model files it reads, e.g. (".onnx",)
    build: Callable[[Path, DetectorConfig], Detector]
    # For `type: auto`: whether a file of its suffixes is one of its models. None: it takes any such
    # file no other backend claims (the bundled family, the fallback for plain ONNX files).
    recognizes: Callable[[Path], bool] | None = None


_BACKENDS: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    _BACKENDS[backend.kind] = backend


def kinds() -> tuple[str, ...]:
    return tuple(_BACKENDS)


def load_detector(config: DetectorConfig, resolve: Callable[[str], Path]) -> Detector:
    """Build the configured detector. `resolve` turns a configured path into a real one."""
    if isinstance(config.model, BundledModel):
        if config.type not in ("auto", DEFAULT_KIND):
            raise GatewatchError(
                f"detector.type: {config.type!r} does not fit model '{config.model}' (an SSDLite model)"
            )
        return _BACKENDS[DEFAULT_KIND].build(bundled_model_path(), config)
    path = resolve(config.model)
    if not path.is_file():
        raise GatewatchError(f"detector.model: model file {path} not found")
    suffix = path.suffix.lower()
    if config.type == "auto":
        return _recognise(path, suffix).build(path, config)
    backend = _BACKENDS[config.type]
    if suffix not in backend.suffixes:
        wanted = " or ".join(backend.suffixes)
        raise GatewatchError(f"detector.model: {path.name}: detector type {config.type!r} needs a {wanted} file")
    return backend.build(path, config)


def _recognise(path: Path, suffix: str) -> Backend:
    readers = [backend for backend in _BACKENDS.values() if suffix in backend.suffixes]
    if not readers:
        known = sorted({s for backend in _BACKENDS.values() for s in backend.suffixes})
        raise GatewatchError(f"detector.model: {path.name}: unsupported model file; use {' or '.join(known)}")
    claimed = next((b for b in readers if b.recognizes is not None and b.recognizes(path)), None)
    fallback = next((b for b in readers if b.recognizes is None), None)
    chosen = claimed or fallback
    if chosen is None:
        raise GatewatchError(f"detector.model: {path.name}: no detector type recognises it; set detector.type")
    return chosen


class CameraDetectors:
    """Each camera's detectors: its own `model:` (or the site's `detector.model`) and, where it has
    one, its `night_model:`; every model file loaded once however many cameras use it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._loaded: dict[str, Detector] = {}

    def _own(self, camera: str, night: bool) -> str | None:
        settings = self.config.cameras[camera]
        return settings.night_model if night else settings.model

    def get(self, camera: str) -> Detector:
        return self._load(camera, False)

    def night(self, camera: str) -> Detector | None:
        return self._load(camera, True) if self._own(camera, True) is not None else None

    def _load(self, camera: str, night: bool) -> Detector:
        own = self._own(camera, night)
        key = own or str(self.config.detector.model)  # the model file (or `default`)
        if key not in self._loaded:
            settings = self.config.detector if own is None else self.config.detector.model_copy(update={"model": own})
            try:
                self._loaded[key] = load_detector(settings, self.config.resolve)
            except GatewatchError as exc:
                if own is None:
                    raise
                field = f"cameras.{camera}.{'night_model' if night else 'model'}"
                raise GatewatchError(f"{field}: {str(exc).removeprefix('detector.model: ')}") from None
        return self._loaded[key]

    def check(self) -> None:
        """Load every camera's models now: a bad one is one clear error before any work starts."""
        for camera in self.config.cameras:
            self.get(camera)
            self.night(camera)
