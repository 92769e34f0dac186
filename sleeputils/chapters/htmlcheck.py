"""What every built book must be: readable offline, and every chapter re-runnable from its page.

:func:`check_html` reads ``_build/html`` after ``jupyter-book build`` and names each page that
loads a script, stylesheet, font, image or frame from another host (the equations' MathJax
included: it is served from ``_static``), and each chapter page without its re-run command.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

#: The attribute through which each tag makes the browser fetch something.
FETCHED_BY = {"script": "src", "img": "src", "iframe": "src", "source": "src", "video": "src",
              "audio": "src", "embed": "src", "object": "data", "link": "href"}
#: ``<link rel=...>`` values that name a page instead of fetching it.
NOT_FETCHED = {"canonical", "alternate", "next", "prev", "index", "search", "author", "license",
               "help", "top", "up", "first", "last"}


#: An absolute web address inside an inline script.
_URL = re.compile(r"https?://[^\s'\"`)]+")
#: Addresses an inline script names but fetches only when a reader presses a button this book
#: does not have: sphinx-thebe's bundle, loaded by its launch button (``launch_buttons`` off).
_ON_DEMAND = re.compile(r"const THEBE_JS_URL = \"[^\"]*\"")


def is_external(url: str) -> bool:
    """An address on another host: ``https://...``, ``http://...`` or ``//host/...``."""
    return url.strip().lower().startswith(("http://", "https://", "//"))


class _Page(HTMLParser):
    """The external fetches and the visible text of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.external: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            self._in_script = True
        if tag == "link" and not set(values.get("rel", "").lower().split()) - NOT_FETCHED:
            return
        url = values.get(FETCHED_BY.get(tag, ""), "")
        if url and is_external(url):
            self.external.append(url)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:  # an inline script that names another host
            self.external += _URL.findall(_ON_DEMAND.sub("", data))
        else:
            self.text.append(data)


def read_page(path: Path) -> tuple[list[str], str]:
    """External addresses ``path`` fetches, and its visible text."""
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page.external, "".join(page.text)


def check_html(html: Path, chapter_ids: list[str], chapters_dir: str = "book/chapters"
               ) -> list[str]:
    """One line per problem of the built book in ``html`` (empty when there is none)."""
    problems = []
    for path in sorted(html.rglob("*.html")):
        external, _ = read_page(path)
        problems += [f"{path.relative_to(html)} loads {url} from another host (the book must "
                     "read offline)" for url in dict.fromkeys(external)]
    for chapter_id in chapter_ids:
        page = html / chapters_dir / f"{chapter_id}.html"
        if not page.is_file():
            problems.append(f"{page.relative_to(html)} was not built")
        elif f"sleepbook run {chapter_id} --profile" not in read_page(page)[1]:
            problems.append(f"{page.relative_to(html)} has no re-run command "
                            f"(sleepbook run {chapter_id} ...)")
    return problems
