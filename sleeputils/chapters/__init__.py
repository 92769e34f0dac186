"""The book's chapters: the registry (chapters from ``_toc.yml``, profiles), what a chapter
notebook calls (:func:`open_chapter`), and the papermill runner the ``sleepbook`` CLI drives."""

from sleeputils.chapters.notebook import Page, open_chapter
from sleeputils.chapters.registry import Book, Resolved

__all__ = ["Book", "Page", "Resolved", "open_chapter"]
