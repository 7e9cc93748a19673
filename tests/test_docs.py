"""The docs hold together: README.md is a front page that reaches every page under
docs/, each paragraph is written once, and every relative link lands on a file and
heading that exist. (Their commands are run by test_grpcurl.py.)"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

from repositories.config import PROJECT_ROOT as ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
DOC_PAGES = (README, *sorted(DOCS.rglob("*.md")))
# Pages whose links are checked too; the client package's README ships with it.
LINKED_PAGES = (*DOC_PAGES, ROOT / "protos" / "README.md")
# Shorter paragraphs (a heading, "Then:") may repeat without being copies.
MIN_PARAGRAPH_CHARS = 80
MIN_SENTENCE_CHARS = 80
FRONT_PAGE_MAX_LINES = 150

_FENCE = re.compile(r"^```.*?^```[^\n]*$", re.M | re.S)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
# A file path in backticks (`tests/test_tls.py`, `deploy/hpa.yaml`).
_PATH = re.compile(r"`([\w.-]+(?:/[\w.-]+)+\.[a-z]+)`")


def prose(page: Path) -> str:
    """The page without its fenced code blocks (commands may repeat across pages)."""
    return _FENCE.sub("", page.read_text())


def paragraphs(page: Path) -> list[str]:
    """The page's paragraphs and tables, whitespace-normalised."""
    blocks = re.split(r"\n[ \t]*\n", prose(page))
    return [" ".join(block.split()) for block in blocks if block.strip()]


def anchor(heading: str) -> str:
    """The anchor a heading gets on GitHub: lowercase, punctuation dropped, spaces
    to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a page, repeated headings numbered as GitHub does."""
    seen: dict[str, int] = defaultdict(int)
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(page), flags=re.M):
        base = anchor(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(prose(page))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def test_anchor_follows_github_rules() -> None:
    assert anchor("Migrations: a Job before the rollout, not an initContainer") == (
        "migrations-a-job-before-the-rollout-not-an-initcontainer"
    )
    assert anchor("Metrics, logs and traces") == "metrics-logs-and-traces"
    assert anchor("Choosing the `id`") == "choosing-the-id"


def test_no_paragraph_is_written_twice() -> None:
    places: dict[str, list[str]] = defaultdict(list)
    for page in DOC_PAGES:
        for number, paragraph in enumerate(paragraphs(page), 1):
            if len(paragraph) >= MIN_PARAGRAPH_CHARS:
                places[paragraph].append(f"{page.relative_to(ROOT)} paragraph {number}")
    copies = {text[:100]: where for text, where in places.items() if len(where) > 1}
    assert not copies, copies


def test_no_long_sentence_is_written_twice() -> None:
    """Catches a sentence copied into a paragraph that was otherwise reworded."""
    places: dict[str, list[str]] = defaultdict(list)
    for page in DOC_PAGES:
        for paragraph in paragraphs(page):
            if paragraph.startswith("|"):
                continue  # table rows are not sentences
            for sentence in re.split(r"(?<=[.;])\s+", paragraph):
                if len(sentence) >= MIN_SENTENCE_CHARS:
                    places[sentence].append(str(page.relative_to(ROOT)))
    copies = {text[:100]: where for text, where in places.items() if len(where) > 1}
    assert not copies, copies


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in LINKED_PAGES:
        for target in relative_links(page):
            path, _, fragment = target.partition("#")
            destination = (page.parent / unquote(path)).resolve() if path else page
            if not destination.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_every_named_repository_file_exists() -> None:
    """A path the docs name in backticks under one of the repository's own folders
    must exist, so a renamed module or test cannot leave the docs pointing at nothing.
    (Paths under other roots, `google/rpc/status.proto`, are other projects' files.)"""
    missing = [
        f"{page.relative_to(ROOT)}: {path}"
        for page in LINKED_PAGES
        for path in _PATH.findall(page.read_text())
        if (ROOT / path.split("/")[0]).is_dir() and not (ROOT / path).exists()
    ]
    assert not missing, missing


def test_no_link_leaves_the_repository() -> None:
    outside = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in LINKED_PAGES
        for target in relative_links(page)
        if not (page.parent / target.partition("#")[0]).resolve().is_relative_to(ROOT)
    ]
    assert not outside, outside


def test_readme_is_a_front_page_that_reaches_every_doc() -> None:
    assert len(README.read_text().splitlines()) <= FRONT_PAGE_MAX_LINES
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in relative_links(README)}
    unlinked = [page.relative_to(ROOT) for page in DOC_PAGES[1:] if page not in linked]
    assert not unlinked, f"README.md links no {unlinked}"
