"""The enrolment link a code page shows as a QR code: a phone's camera opens the app with the
code filled in (pwa/js/views/enrol.js reads #/enrol/CODE, then drops it from the address bar).

The code rides in the fragment, which the browser never sends: it stays out of server logs.
"""

from __future__ import annotations

import segno


def enrol_link(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/#/enrol/{code}"


def qr_svg(text: str, title: str) -> str:
    """An inline SVG (no script) that scales with CSS: the viewBox is in modules."""
    return segno.make(text, error="m").svg_inline(scale=1, omitsize=True, title=title, border=4, light="#fff")
