"""A fake camera for the scan page: a Y4M video of pack labels that Chromium shows as its camera.

Chromium reads the video given by `--use-file-for-fake-video-capture` as the device's camera
(`--use-fake-device-for-media-stream`) and grants the page the camera without asking
(`--use-fake-ui-for-media-stream`); it plays the file in a loop. The video is made here from the
labels' payloads, each QR code drawn as the label sheets draw it
(ledger.services.label_sheets.qr_matrix: zxing-cpp, error correction M) on white with a quiet zone:

    YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg      the header
    FRAME + Y plane (W×H) + U plane + V plane       each frame; grey only: U = V = 128

Each label is shown for `shown_s` seconds, then `blank_s` seconds of blank (white) frames, so
that a label's first frame in view comes right after a frame with nothing to read.

Used by tests/e2e/test_scan_camera.py and bench/scan_camera.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from selenium.webdriver.chrome.webdriver import WebDriver

from ledger.services.label_sheets import qr_matrix
from tests.e2e.conftest import CHROMIUM_FLAGS, ensure_chromium
from tests.e2e.workspace import Page, new_browser

QUIET_MODULES = 4  # the white margin a QR reader needs around the code, in modules
WHITE, BLACK = 255, 0  # full-range luma (C420jpeg)


@dataclass(frozen=True)
class Video:
    """How the fake camera's video is laid out: its size, frame rate and timing."""

    width: int = 640
    height: int = 480
    fps: int = 10
    shown_s: float = 1.6  # each label in view
    blank_s: float = 0.7  # nothing in view between two labels

    @property
    def shown_frames(self) -> int:
        return round(self.shown_s * self.fps)

    @property
    def blank_frames(self) -> int:
        return round(self.blank_s * self.fps)

    def loop_s(self, labels: int) -> float:
        """The length of the whole video (it loops)."""
        return labels * (self.shown_frames + self.blank_frames) / self.fps


def label_plane(payload: str, video: Video, fill: float = 0.7) -> np.ndarray:
    """The luma plane of a frame showing one label's QR code, centred, `fill` of the height."""
    matrix = np.array(qr_matrix(payload), dtype=bool)
    modules = matrix.shape[0] + 2 * QUIET_MODULES
    scale = max(2, int(video.height * fill) // modules)
    code = np.where(matrix, BLACK, WHITE).astype(np.uint8)
    code = np.kron(code, np.ones((scale, scale), dtype=np.uint8))
    plane = np.full((video.height, video.width), WHITE, dtype=np.uint8)
    top = (video.height - code.shape[0]) // 2
    left = (video.width - code.shape[1]) // 2
    plane[top : top + code.shape[0], left : left + code.shape[1]] = code
    return plane


def write_y4m(path: Path, payloads: Sequence[str], video: Video = Video()) -> Path:
    """The video of `payloads` at `path`: each label shown, then blank frames."""
    chroma = np.full((video.height // 2) * (video.width // 2) * 2, 128, dtype=np.uint8).tobytes()
    blank = np.full((video.height, video.width), WHITE, dtype=np.uint8).tobytes()
    header = f"YUV4MPEG2 W{video.width} H{video.height} F{video.fps}:1 Ip A1:1 C420jpeg\n"
    with path.open("wb") as out:
        out.write(header.encode("ascii"))
        for payload in payloads:
            shown = label_plane(payload, video).tobytes()
            for plane in [shown] * video.shown_frames + [blank] * video.blank_frames:
                out.write(b"FRAME\n" + plane + chroma)
    return path


def camera_flags(video_file: Path) -> tuple[str, ...]:
    """The browser's flags with the fake camera playing `video_file`."""
    return (
        *CHROMIUM_FLAGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video_file}",
    )


def camera_browser(video_file: Path) -> WebDriver:
    """Headless Chromium whose camera plays `video_file` (console and network logs kept)."""
    return new_browser(*ensure_chromium(), camera_flags(video_file))


def open_issue(page: Page, destination: str) -> str:
    """On /scan (signed in as a clerk): a new 出库 scan document to `destination`; its id."""
    page.visit("/scan", ready="#purpose")
    page.choose({"purpose": "issue", "destination": destination})
    page.press("#open", ready="#work:not(.hidden)", leaves=False)
    page.wait_for(lambda d: "出库" in page.text_of("#title"))
    page.wait_for(lambda d: d.execute_script("return document.getElementById('documents').value"))
    return str(page.driver.execute_script("return document.getElementById('documents').value"))


def camera_stats(page: Page) -> list[dict]:
    """window.ScanCamera.stats: one entry per label the camera sent (camera.js says what)."""
    return page.driver.execute_script("return window.ScanCamera.stats")


def frame_times(page: Page) -> list[dict]:
    """window.ScanCamera.frames: {decodeMs, found} of each frame read (ms from taking the frame
    to the decoder's answer; found: a code was read in it)."""
    return page.driver.execute_script("return window.ScanCamera.frames")
