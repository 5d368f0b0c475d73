"""The scan page's camera on a fake camera: decode time per frame and label-in-view -> feedback.

    .venv/bin/python -m bench.scan_camera                  # 12 labels
    .venv/bin/python -m bench.scan_camera --labels 20

Loads the demo city (as the e2e tests do: tests/e2e/workspace.py), serves it on loopback
(uvicorn in a thread), takes `--labels` sealed 文摘 (WZ2014) packs of the city's one batch and makes
a Y4M video of their QR codes (tests/e2e/camera.py: 640×480, 10 frames/s, each label
1.6 s in view then 0.7 s blank). Headless Chromium plays it as its camera
(--use-fake-device-for-media-stream --use-file-for-fake-video-capture); the city's clerk signs
in, opens an 出库 scan document on /scan and presses 摄像头扫码. When every label has been
answered, the page's own records are read (window.ScanCamera, api/static/web/camera.js):

- per frame: from taking the frame (drawImage onto a ≤ 640 px canvas) to the decoder's answer
  (getImageData + jsQR: headless Chromium on Linux has no BarcodeDetector), every frame read,
  and those with a code in them apart;
- per label, label in view -> feedback, an upper bound: from taking the last frame in which
  nothing was read (the label was not in view yet) to the scan:feedback event that answered the
  label (after ScanPage.submit: POST /api/v1/scans, the answer shown); and from taking the first
  frame that read it to that feedback (a lower bound). The fake camera's own delay before the
  page has a frame is not in either (a phone's camera adds about one or two frames).

The server's document must hold exactly the labels shown. Not part of `bench.run_all`: its
figures are kept in their own section of BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By

from ledger.services import label_keys, scanning
from ledger.settings import Settings
from tests.e2e.camera import Video, camera_browser, camera_stats, frame_times, open_issue, write_y4m
from tests.e2e.workspace import LiveServer, Page, build_demo

CLERK, CITY, COUNTY = "clerk@510100", "510100", "510121"
ITEM, BATCH = "WZ2014", "2014-01"  # the city's one 文摘 batch: 2,130 packs of 100 册
VIDEO = Video()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def spread(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


def scan(page: Page, labels: int, timeout_s: float) -> None:
    """摄像头扫码 pressed; back when every label has had its answer."""
    page.driver.find_element(By.ID, "camera-open").click()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answered = [s for s in camera_stats(page) if s["kind"]]
        if len({s["text"] for s in answered}) >= labels:
            return
        time.sleep(0.2)
    raise AssertionError(f"only {len(camera_stats(page))} of {labels} labels read in time")


def run(directory: Path, labels: int) -> dict:
    started = time.perf_counter()
    server = LiveServer.start(build_demo(directory / "demo.db"), directory)
    keys = label_keys.load(Settings.from_environment())
    packs = scanning.packs(server.database, keys, ITEM, BATCH, CITY, limit=labels)
    assert len(packs) == labels, f"the demo city has {len(packs)} {ITEM} packs"
    video = write_y4m(directory / "labels.y4m", [p.payload for p in packs], VIDEO)
    print(f"demo city and video ready in {time.perf_counter() - started:.0f} s", flush=True)
    driver = camera_browser(video)
    try:
        page = Page(driver, server.base)
        page.resize(1280)
        page.sign_in(CLERK)
        document = open_issue(page, COUNTY)
        scan(page, labels, VIDEO.loop_s(labels) + 30)
        stats, frames = camera_stats(page), frame_times(page)
        engine = driver.execute_script("return window.ScanCamera.engine()")
        browser = driver.capabilities.get("browserVersion", "")
        lines = scanning.document(server.database, int(document)).lines
    finally:
        driver.quit()
        server.stop()
    assert sorted(line.serial for line in lines) == sorted(p.serial for p in packs)
    first = [s for s in stats if s["kind"] == "ok"]
    assert len(first) == labels and {s["text"] for s in first} == {p.payload for p in packs}
    return {
        "labels": labels,
        "engine": engine,
        "chromium": browser,
        "frames_all_ms": spread([f["decodeMs"] for f in frames]),
        "frames_with_code_ms": spread([f["decodeMs"] for f in frames if f["found"]]),
        "frames_blank_ms": spread([f["decodeMs"] for f in frames if not f["found"]]),
        "in_view_to_feedback_upper_ms": spread([s["answeredAt"] - s["blankAt"] for s in first]),
        "read_to_feedback_lower_ms": spread(
            [s["answeredAt"] - (s["decodedAt"] - s["decodeMs"]) for s in first]
        ),
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def table(figures: dict) -> str:
    rows = [
        ("per frame, every frame read", "frames_all_ms"),
        ("per frame, a code in it", "frames_with_code_ms"),
        ("per frame, nothing in it", "frames_blank_ms"),
        ("label in view -> feedback (upper bound)", "in_view_to_feedback_upper_ms"),
        ("frame that read it -> feedback (lower bound)", "read_to_feedback_lower_ms"),
    ]
    lines = ["| what | n | p50 | p95 | max |", "|---|---|---|---|---|"]
    for name, key in rows:
        row = figures[key]
        lines.append(
            f"| {name} | {row['n']} | {row['p50']} ms | {row['p95']} ms | {row['max']} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=12, help="distinct labels in the video")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-scan-camera-") as directory:
        figures = run(Path(directory), arguments.labels)
    print(json.dumps(figures, ensure_ascii=False))
    print(
        f"\n{figures['labels']} labels, decoder {figures['engine']}, Chromium "
        f"{figures['chromium']}, {figures['cores']} cores, load {figures['load_average']}\n"
    )
    print(table(figures))


if __name__ == "__main__":
    main()
