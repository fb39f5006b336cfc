"""What the server tells its operator: one log line per request, and the counters /metrics shows.

A request's log line carries a request id, who asked (a phone's device id or a dashboard
account's person id), the method, the route *template* (never a query string), the status and
the time taken. It never carries a header, a body or a parameter: that is how no token, password
or wellbeing text can reach the log (docs/deployment.md, "What the logs hold").
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from bisect import bisect_left
from collections import Counter
from typing import Any

from litestar import Litestar
from litestar.logging import LoggingConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.settings import Settings

log = logging.getLogger("nuanxin.requests")

# Seconds. A sync of a full batch on a slow disk takes about a second; 10 s is a stuck request.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# An id from the proxy (nginx's $request_id, Caddy's {http.request.uuid}) is kept when it is
# plainly an id; anything else is replaced, so a header cannot write into the log.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class Metrics:
    """Counters of one process, in Prometheus' text format (version 0.0.4)."""

    def __init__(self) -> None:
        self.responses: Counter[str] = Counter()
        self.syncs: Counter[str] = Counter()
        self.changes: Counter[str] = Counter()
        self.errors = 0
        # (method, route) -> bucket counts (the last one is +Inf), sum of seconds
        self.latency: dict[tuple[str, str], tuple[list[int], float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.responses[str(status)] += 1
        if status == 500:  # a failure of the server; /readyz's 503 is an answer, not one
            self.errors += 1
        if route == "/api/sync":
            self.syncs["ok" if status == 200 else "refused" if status < 500 else "failed"] += 1
        counts, total = self.latency.get((method, route)) or ([0] * (len(BUCKETS) + 1), 0.0)
        counts[bisect_left(BUCKETS, seconds)] += 1
        self.latency[(method, route)] = (counts, total + seconds)

    def count_changes(self, statuses: list[str]) -> None:
        self.changes.update(statuses)

    def render(self, gauges: dict[str, tuple[str, int]]) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"])

        family("nuanxin_syncs_total", "counter", "Sync requests, by outcome (ok, refused: 4xx, failed: 5xx).")
        for outcome in ("ok", "refused", "failed"):
            lines.append(f'nuanxin_syncs_total{{outcome="{outcome}"}} {self.syncs[outcome]}')
        family("nuanxin_changes_total", "counter", "Changes phones pushed, by their result.")
        for result in ("applied", "conflict", "duplicate", "rejected"):
            lines.append(f'nuanxin_changes_total{{result="{result}"}} {self.changes[result]}')
        family("nuanxin_errors_total", "counter", "Requests the server failed (status 500).")
        lines.append(f"nuanxin_errors_total {self.errors}")
        family("nuanxin_responses_total", "counter", "Responses, by HTTP status.")
        lines.extend(f'nuanxin_responses_total{{status="{s}"}} {n}' for s, n in sorted(self.responses.items()))
        for name, (help_text, value) in gauges.items():
            family(name, "gauge", help_text)
            lines.append(f"{name} {value}")
        family("nuanxin_request_duration_seconds", "histogram", "Time to answer a request, by route.")
        for (method, route), (counts, total) in sorted(self.latency.items()):
            labels = f'method="{method}",route="{_escape(route)}"'
            running = 0
            for bound, count in zip([*map(str, BUCKETS), "+Inf"], counts):
                running += count
                lines.append(f'nuanxin_request_duration_seconds_bucket{{{labels},le="{bound}"}} {running}')
            lines.append(f"nuanxin_request_duration_seconds_sum{{{labels}}} {total:.6f}")
            lines.append(f"nuanxin_request_duration_seconds_count{{{labels}}} {running}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _who(scope: Scope) -> str:
    state = scope.get("state") or {}
    if (device := state.get("device")) is not None:
        return f"device:{device.device_id}"
    if (staff := state.get("staff")) is not None:
        return f"account:{staff.person_id}"
    return "-"


def observe_requests(app: ASGIApp, metrics: Metrics) -> ASGIApp:
    """Wrap the whole application (outside its exception handlers, so a 404 or 500 counts too)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else secrets.token_hex(8)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            # The route template (/township/people/{person_id:str}): a path may name a person.
            route = scope.get("path_template") or "(unmatched)"
            metrics.observe(scope["method"], route, status, seconds)
            fields = {"request_id": request_id, "who": _who(scope), "method": scope["method"],
                      "route": route, "status": status, "ms": round(seconds * 1000, 1)}
            log.info("request", extra={"fields": fields})

    return middleware


def install(app: Litestar) -> Litestar:
    app.state.metrics = Metrics()
    app.asgi_handler = observe_requests(app.asgi_handler, app.state.metrics)
    return app


class LineFormatter(logging.Formatter):
    """`time level logger: message key=value…`, or the same as one JSON object a line."""

    def __init__(self, json_lines: bool = False) -> None:
        super().__init__()
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        trace = self.formatException(record.exc_info) if record.exc_info else None
        if self.json_lines:
            line = {"time": when, "level": record.levelname.lower(), "logger": record.name,
                    "message": record.getMessage(), **fields}
            if trace:
                line["trace"] = trace
            return json.dumps(line, ensure_ascii=False)
        text = f"{when} {record.levelname} {record.name}: {record.getMessage()}"
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return f"{text}\n{trace}" if trace else text


def logging_config(settings: Settings) -> LoggingConfig:
    return LoggingConfig(
        formatters={"standard": {"()": LineFormatter, "json_lines": settings.log_format == "json"}},
        root={"level": "INFO", "handlers": ["queue_listener"]},
        loggers={"nuanxin": {"level": "INFO", "handlers": ["queue_listener"], "propagate": False}},
        log_exceptions="debug" if settings.debug else "never",
    )


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """Uvicorn's own lines (start, stop, bind errors) in the same format; its access log is off,
    as the app logs each request itself."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": LineFormatter, "json_lines": settings.log_format == "json"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"}},
        "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                    "uvicorn.error": {"level": "INFO"}},
    }
