"""The JSON examples of the protocol docs decode as the server's own messages, so the spec and
the code cannot drift apart (docs/sync-protocol.md §4, docs/sync-examples.md).

A request decodes strictly, each change on its own; an answer, a set of results and a conflict
record decode and encode back to exactly the example, so an example cannot show a field the
server leaves out (defaults are left out, to save bytes on 2G) or one it does not know.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from sync.protocol import Candidate, Problem, Result, SyncResponse, change_decoder, request_decoder

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCKS = [
    pytest.param(text, id=f"{path.name}#{n}")
    for path in (DOCS / "sync-protocol.md", DOCS / "sync-examples.md")
    for n, text in enumerate(re.findall(r"```json\n(.*?)```", path.read_text("utf-8"), flags=re.S))
]


def _round_trip(value: object, type_: object) -> None:
    decoded = msgspec.convert(value, type_)
    assert msgspec.to_builtins(decoded) == value, "the example shows other fields than the server sends"


def test_the_docs_have_examples_of_every_message() -> None:
    kinds = {_kind(json.loads(p.values[0])) for p in BLOCKS}
    assert kinds == {"request", "answer", "results", "conflict", "problem"}


def _kind(example: dict) -> str:
    if "protocol" in example:
        return "request"
    if "server_time" in example:
        return "answer"
    if "results" in example:
        return "results"
    if "candidates" in example:
        return "conflict"
    assert "error" in example, f"an example of no known message: {example}"
    return "problem"


@pytest.mark.parametrize("text", BLOCKS)
def test_every_json_example_decodes_as_the_message_it_shows(text: str) -> None:
    example = json.loads(text)
    kind = _kind(example)
    if kind == "request":
        request = request_decoder.decode(text.encode())
        for raw in request.changes:
            change_decoder.decode(raw)
    elif kind == "answer":
        _round_trip(example, SyncResponse)
    elif kind == "results":
        _round_trip(example["results"], list[Result])
    elif kind == "conflict":
        assert set(example) == {"field", "candidates"}
        _round_trip(example["candidates"], list[Candidate])
    else:
        _round_trip(example, Problem)


def test_the_docs_cite_only_files_in_the_repository() -> None:
    """A path the docs cite (`sync/merge.py`, `../x/y.md`) names a file of this repository."""
    root = DOCS.parent
    for doc in [*DOCS.glob("*.md"), root / "README.md"]:
        for cited in re.findall(r"`([.\w-]*/[\w./-]+\.\w+)`", doc.read_text("utf-8")):
            if cited.startswith(("/", "./data/", "data/")):  # a URL path; a file the app or `make` makes
                continue
            path = (doc.parent / cited).resolve()
            assert path.is_relative_to(root) and path.exists() or (root / cited).exists(), (
                f"{doc.name} cites {cited}, which is not a file of this repository"
            )


def test_every_step_the_code_cites_is_a_step_of_the_spec() -> None:
    root = DOCS.parent
    defined = set(re.findall(r"^- ([SMKPC]\d+a?) ", (DOCS / "sync-protocol.md").read_text("utf-8"), flags=re.M))
    sources = [*root.glob("server/**/*.py"), *root.glob("sync/*.py"), *root.glob("pwa/js/**/*.js")]
    for source in sources:
        for step in re.findall(r"\b([SMKPC]\d{1,2}a?)\b", source.read_text("utf-8")):
            assert step in defined, f"{source.relative_to(root)} cites step {step}, which the spec does not define"
