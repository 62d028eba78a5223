"""onnxruntime sessions and the model that comes with the install."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.errors import GatewatchError

DEFAULT_MODEL_NAME = "ssdlite_person.onnx"


def onnx_session(path: Path, threads: int | None):
    """An onnxruntime CPU session with full graph optimisation; an unreadable model is a user error."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.log_severity_level = 3
    # Its threads sleep between calls instead of spinning: a spinning pool burns the cores that the
    # cameras' decoding and the other stages need (32 live cameras on 2 cores: 8 % more frames
    # analysed on 10 % less CPU; a file alone analyses as fast either way, measured).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises bare RuntimeError/Fail subclasses for bad files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GatewatchError(f"{path}: not a loadable ONNX model ({first_line})") from None


def bundled_model_path() -> Path:
    """The default model: inside the installed package, or in the source tree's models/ folder."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "models" / DEFAULT_MODEL_NAME, here.parent / "models" / DEFAULT_MODEL_NAME):
        if candidate.is_file():
            return candidate
    raise GatewatchError(
        f"the bundled model {DEFAULT_MODEL_NAME} is missing from this installation; reinstall gatewatch"
    )
