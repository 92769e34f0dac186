"""Book layer: chapters and profiles, notebook execution, the status page and the check.

Chapter notebooks use :func:`chapter_setup` after their parameters cell and
``sleeputils.results.record`` at their end; the ``sleepbook`` CLI drives :mod:`.runner`.
"""

from sleeputils.book.chapters import (
    ChapterSetup,
    ParamError,
    chapter_setup,
    default_registry,
    resolve,
)

__all__ = ["ChapterSetup", "ParamError", "chapter_setup", "default_registry", "resolve"]
