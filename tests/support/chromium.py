"""Find a Chromium for the browser tests, or install one, or say in one line how to.

Order: $NUANXIN_CHROMIUM; the system's Chromium or Chrome; Playwright's own download. If none
is found: as root with apt, install Debian's `chromium`; otherwise try `playwright install
chromium` (needs the internet); if that fails too, stop with an instruction.
`python -m tests.support.chromium` runs this before the test suite (make test).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

CANDIDATES = [
    "/usr/lib/chromium/chromium",  # Debian's binary (the /usr/bin one is a shell wrapper)
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]
HELP = "No Chromium found: install one (e.g. `apt-get install chromium`) or set NUANXIN_CHROMIUM=/path/to/chrome"


def find_chromium() -> str | None:
    explicit = os.environ.get("NUANXIN_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for path in CANDIDATES:
        if Path(path).exists():
            return path
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    downloaded = sorted(glob.glob(str(cache / "chromium-*" / "chrome-linux*" / "chrome")))
    return downloaded[-1] if downloaded else None


def install_chromium() -> None:
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env)
    if find_chromium() is None:
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=False)


def main() -> int:
    path = find_chromium()
    if path is None:
        install_chromium()
        path = find_chromium()
    if path is None:
        print(HELP, file=sys.stderr)
        return 1
    print(f"browser tests use {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
