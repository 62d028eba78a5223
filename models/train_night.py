"""Fine-tune the bundled SSDLite person detector so that it sees at night as it does by day.

Teacher-student: the original model (`ssdlite_person_voc.onnx`, frozen, in onnxruntime) looks at
a clean frame; the student (the same network, brought into PyTorch with onnx2torch) looks at a
night version of the same frame (IR, low light or slow shutter, drawn from the ranges in
`benchmarks/night.py`, with this script's own seed) and learns to give the teacher's answer on
every one of its 1917 anchors: person score (binary cross-entropy on the teacher's soft score)
and, where the teacher sees a person, the box (L1). Distilling the whole output means no anchor
matching and no labels are needed, so unlabelled footage counts as much as annotated footage;
where ground-truth boxes exist (`gt.csv`), an anchor whose teacher box overlaps a true person
(IoU >= 0.6) and that the teacher already scores above 0.2 gets a near-certain target, which
teaches the student the people the teacher half-missed. Frames are reframed (cropped, or shrunk
into a border so that people appear small and far away) and mirrored; 30 % of the samples stay
clean, so the day answer does not drift.

BatchNorm statistics stay frozen (batches of 16 are too small to re-estimate them). Training
runs on the CPU; with `--steps 500` it takes about 15 minutes on 2 cores.

    python -m venv /tmp/trainenv && /tmp/trainenv/bin/pip install '.[train]'
    /tmp/trainenv/bin/python models/train_night.py --train TUD-Stadtmitte --out models/ssdlite_person.onnx

Never train on PETS09-S2L1 for a shipped model: it shares a camera with the footage reserved for
independent evaluation (Debian's opencv-doc). Use it to evaluate (and `--train PETS09-S2L1` only
for the reverse-direction check, written elsewhere).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.data import truth_boxes  # noqa: E402
from benchmarks.night import CONDITIONS, degrade, draw  # noqa: E402
from pipeline.detectors.ssdlite import RESIZE_KEY, network_input  # noqa: E402  (the detector's own input path)

TEACHER = ROOT / "models" / "ssdlite_person_voc.onnx"
RESERVED = "PETS09-S2L1"  # shares a camera with the independent evaluation footage
# M3SVD clips reserved for independent evaluation; benchmarks/footage's three are the held-out check.
RESERVED_THERMAL = frozenset({"0111_1803", "0112_1705", "0112_1707", "0118_1904", "0118_1913"})
HELD_OUT_THERMAL = frozenset(p.name for p in (ROOT / "benchmarks" / "footage" / "M3SVD").iterdir() if p.is_dir())


@dataclass
class Frame:
    image: np.ndarray  # BGR, full resolution
    boxes: np.ndarray  # ground-truth people, xyxy pixels; empty for unlabelled frames
    labelled: bool
    # The same moment through a thermal camera, pixel-aligned (M3SVD's visible/infrared pairs):
    # the student sees this instead of a synthetic night look of `image`.
    thermal: np.ndarray | None = None


def read_video(path: Path, every: int = 1) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(image)
        index += 1
    capture.release()
    if not frames:
        raise SystemExit(f"train_night: {path}: no frames could be decoded")
    return frames


def annotated(folder: Path) -> list[Frame]:
    """An annotated sequence of ../shared/data: its video and gt.csv (1-based frames, xywh)."""
    boxes = truth_boxes(folder)
    none = np.zeros((0, 4), np.float32)
    return [Frame(image, boxes.get(k, none), True) for k, image in enumerate(read_video(next(folder.glob("*.mp4"))))]


def thermal_pairs(root: Path, names: list[str], every: int) -> list[Frame]:
    """M3SVD clips with both a visible and an infrared video (`root`/visible/NAME.mp4 and
    `root`/infrared/NAME.mp4, the repository's Video/test): every `every`-th frame pair."""
    frames = []
    for name in names:
        visible = read_video(root / "visible" / f"{name}.mp4", every)
        infrared = read_video(root / "infrared" / f"{name}.mp4", every)
        frames += [
            Frame(day, np.zeros((0, 4), np.float32), False, thermal)
            for day, thermal in zip(visible, infrared, strict=False)
        ]
    return frames


def reframe(frame: Frame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The frame as another camera might frame it, ground-truth boxes following (normalised):
    half the time a crop of 55-100 % of its area (people larger), half the time the frame shrunk
    to 40-90 % inside a reflected border (people smaller and farther away, as at a wide gate);
    mirrored half the time. Without the shrinking, a model fine-tuned on a street-level scene
    forgets small people. A thermal twin is framed the same way."""
    height, width = frame.image.shape[:2]
    boxes = frame.boxes.copy()
    views = [frame.image] if frame.thermal is None else [frame.image, frame.thermal]
    if rng.random() < 0.5:
        scale = np.sqrt(rng.uniform(0.55, 1.0))
        ch, cw = int(height * scale), min(width, int(width * scale * rng.uniform(0.9, 1.1)))
        y0, x0 = int(rng.integers(0, height - ch + 1)), int(rng.integers(0, width - cw + 1))
        views = [view[y0 : y0 + ch, x0 : x0 + cw] for view in views]
        boxes -= np.array([x0, y0, x0, y0], np.float32)
    else:
        zoom = rng.uniform(0.4, 0.9)
        sw, sh = int(width * zoom), int(height * zoom)
        x0, y0 = int(rng.integers(0, width - sw + 1)), int(rng.integers(0, height - sh + 1))
        views = [
            cv2.copyMakeBorder(
                cv2.resize(view, (sw, sh), interpolation=cv2.INTER_AREA),
                y0, height - sh - y0, x0, width - sw - x0, cv2.BORDER_REFLECT_101,
            )
            for view in views
        ]  # fmt: skip
        boxes = boxes * zoom + np.array([x0, y0, x0, y0], np.float32)
        ch, cw = height, width
    boxes = np.clip(boxes, 0, [cw, ch, cw, ch]) / np.array([cw, ch, cw, ch], np.float32)
    boxes = boxes[(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) > 1e-4]
    if rng.random() < 0.5:
        views = [view[:, ::-1] for view in views]
        boxes = np.stack([1 - boxes[:, 2], boxes[:, 1], 1 - boxes[:, 0], boxes[:, 3]], axis=1)
    views = [np.ascontiguousarray(view) for view in views]
    return views[0], boxes.reshape(-1, 4), views[1] if len(views) > 1 else None


def iou_yx(teacher: np.ndarray, truth_xy: np.ndarray) -> np.ndarray:
    """IoU of the teacher's boxes (ymin, xmin, ymax, xmax) with ground truth (xmin, ymin, xmax, ymax)."""
    t = teacher[:, [1, 0, 3, 2]]
    x1 = np.maximum(t[:, None, 0], truth_xy[None, :, 0])
    y1 = np.maximum(t[:, None, 1], truth_xy[None, :, 1])
    x2 = np.minimum(t[:, None, 2], truth_xy[None, :, 2])
    y2 = np.minimum(t[:, None, 3], truth_xy[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_t = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    area_g = (truth_xy[:, 2] - truth_xy[:, 0]) * (truth_xy[:, 3] - truth_xy[:, 1])
    return inter / np.maximum(area_t[:, None] + area_g[None] - inter, 1e-9)


def write_back(student, graph) -> None:
    """Copy the trained weights into the original ONNX graph, node by node (onnx2torch names each
    module after its node). Re-exporting from PyTorch instead would bake the traced batch size
    into the anchor tiling; this keeps the original graph, its dynamic batch and its speed."""
    from onnx import numpy_helper

    modules = dict(student.named_modules())
    initializers = {i.name: i for i in graph.graph.initializer}
    copied = 0
    for node in graph.graph.node:
        if node.op_type not in ("Conv", "BatchNormalization"):
            continue
        parameters = [p for name, p in modules[node.name].named_parameters() if name.endswith(("weight", "bias"))]
        for name, parameter in zip(node.input[1:3], parameters, strict=True):
            initializers[name].CopyFrom(numpy_helper.from_array(parameter.detach().numpy(), name))
            copied += parameter.numel()
    total = sum(p.numel() for p in student.parameters())
    if copied != total:
        raise SystemExit(f"train_night: wrote back {copied} of {total} trained weights; the graph changed?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--train", default="TUD-Stadtmitte", help="annotated sequences to train on, comma-separated")
    parser.add_argument(
        "--unlabelled",
        type=Path,
        nargs="*",
        default=sorted((ROOT / "sample_videos").glob("*.mp4")),
        help="videos without annotation (teacher labels only); default: the bundled sample clip",
    )
    parser.add_argument(
        "--pairs",
        default="",
        help="M3SVD clips with visible and infrared videos, comma-separated: the student learns the teacher's "
        "answer on the visible frame from the aligned thermal one (never the reserved clips)",
    )
    parser.add_argument("--pairs-root", type=Path, help="M3SVD's Video/test folder (visible/ and infrared/)")
    parser.add_argument("--pairs-every", type=int, default=2, help="every n-th frame pair")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clean-share", type=float, default=0.3)
    parser.add_argument("--allow-reserved", action="store_true", help="only for the reverse-direction check")
    args = parser.parse_args()

    import onnx
    import onnxruntime as ort
    import torch
    from onnx2torch import convert

    names = [n for n in args.train.split(",") if n]
    if RESERVED in names and not args.allow_reserved:
        raise SystemExit(f"train_night: {RESERVED} is kept out of shipped models (see the docstring)")
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rng = np.random.default_rng([args.seed, zlib.crc32(args.train.encode())])

    frames: list[Frame] = []
    for name in names:
        frames += annotated(args.data / name)
    for video in args.unlabelled:
        frames += [Frame(image, np.zeros((0, 4), np.float32), False) for image in read_video(video, every=2)]
    pairs = [n for n in args.pairs.split(",") if n]
    if reserved := sorted(set(pairs) & (RESERVED_THERMAL | HELD_OUT_THERMAL)):
        raise SystemExit(f"train_night: {', '.join(reserved)}: reserved for independent evaluation or held out")
    if pairs:
        if args.pairs_root is None:
            raise SystemExit("train_night: --pairs needs --pairs-root (M3SVD's Video/test folder)")
        frames += thermal_pairs(args.pairs_root, pairs, args.pairs_every)
    print(
        f"{len(frames)} frames ({sum(f.labelled for f in frames)} annotated, "
        f"{sum(f.thermal is not None for f in frames)} visible/thermal pairs)",
        flush=True,
    )

    teacher = ort.InferenceSession(str(TEACHER), providers=["CPUExecutionProvider"])
    student = convert(onnx.load(str(TEACHER)))
    student.eval()  # frozen BatchNorm statistics; the weights still train
    optimiser = torch.optim.Adam(student.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=args.steps)

    started = time.monotonic()
    log = []
    for step in range(args.steps):
        clean, night, truths = [], [], []
        for _ in range(args.batch):
            frame = frames[int(rng.integers(len(frames)))]
            image, boxes, thermal = reframe(frame, rng)
            clean.append(network_input(image))
            if thermal is not None:
                night.append(network_input(thermal))
            elif rng.random() < args.clean_share:
                night.append(clean[-1])
            else:
                look = draw(CONDITIONS[int(rng.integers(len(CONDITIONS)))], rng)
                night.append(network_input(degrade(image, look, rng, int(rng.integers(90)))))
            truths.append(boxes if frame.labelled else None)
        t_boxes, t_scores = teacher.run(["boxes", "scores"], {"image": np.stack(clean)})
        target = t_scores.copy()
        for k, truth in enumerate(truths):
            if truth is not None and len(truth):
                overlap = iou_yx(t_boxes[k], truth).max(axis=1)
                sure = (overlap >= 0.6) & (t_scores[k] > 0.2)
                target[k, sure] = np.maximum(target[k, sure], 0.95)
        s_boxes, s_scores = student(torch.from_numpy(np.stack(night)))
        target_t = torch.from_numpy(target)
        weight = 1.0 + 4.0 * target_t
        bce = torch.nn.functional.binary_cross_entropy(s_scores.clamp(1e-6, 1 - 1e-6), target_t, reduction="none")
        score_loss = (weight * bce).sum() / weight.sum()
        box_weight = (target_t > 0.3).float() * target_t
        box_l1 = (s_boxes - torch.from_numpy(t_boxes)).abs().sum(-1)
        box_loss = (box_weight * box_l1).sum() / box_weight.sum().clamp(min=1.0)
        loss = score_loss + box_loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 25 == 0 or step == args.steps - 1:
            entry = {"step": step, "score": round(score_loss.item(), 5), "box": round(box_loss.item(), 5)}
            log.append(entry)
            print(entry, f"{time.monotonic() - started:.0f} s", flush=True)

    student.eval()
    graph = onnx.load(str(TEACHER))
    write_back(student, graph)
    onnx.helper.set_model_props(
        graph,
        {
            RESIZE_KEY: "area",  # the detector feeds this model as it was trained
            "gatewatch_training": f"models/train_night.py --train {args.train} --pairs {args.pairs} "
            f"--steps {args.steps} --seed {args.seed}",
        },
    )
    partial = args.out.with_suffix(".partial.onnx")
    onnx.save(graph, str(partial))
    check = ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
    example = np.stack(clean[:3])  # another batch size than any traced one: the graph stays dynamic
    with torch.no_grad():
        want = student(torch.from_numpy(example))[1].numpy()
    got = check.run(["scores"], {"image": example})[0]
    print(f"write-back check: max |score difference| torch vs onnxruntime {np.abs(want - got).max():.2e}")
    partial.rename(args.out)
    record = {
        "train": names,
        "pairs": pairs,
        "unlabelled": [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in args.unlabelled],
        "frames": len(frames),
        "steps": args.steps,
        "batch": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "clean_share": args.clean_share,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "torch": torch.__version__,
        "log": log,
    }
    args.out.with_suffix(".train.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
