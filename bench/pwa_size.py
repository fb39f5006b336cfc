"""How many bytes the phone downloads once: the app's own files, gzipped (issue budget: 60 KB).

Run: python -m bench.pwa_size
"""

from __future__ import annotations

import gzip
from pathlib import Path

PWA = Path(__file__).resolve().parents[1] / "pwa"
BUDGET = 60 * 1024
OWN = {".html", ".css", ".js", ".webmanifest"}


def measure() -> list[tuple[str, int, int]]:
    rows = []
    for path in sorted(PWA.rglob("*")):
        if path.suffix in OWN:
            raw = path.read_bytes()
            rows.append((str(path.relative_to(PWA)), len(raw), len(gzip.compress(raw, 9))))
    return rows


def main() -> int:
    rows = measure()
    for name, raw, packed in rows:
        print(f"{packed:>7,} {raw:>8,}  {name}")
    total = sum(packed for _, _, packed in rows)
    print(f"{total:>7,} {sum(raw for _, raw, _ in rows):>8,}  total (gzip -9, raw) — budget {BUDGET:,}")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
