"""Names are labels, file names are relsim's own.

A scenario's names (the scenario's, its firms', segments' and strategies') are text for tables
and reports: :func:`check_name` is what the scenario requires of them when the file is read.
Every file or folder relsim names after one of them is named from :func:`slug`, never from the
raw text, so no name can reach outside the results folder or make a file name the system
refuses.

A slug keeps an ordinary name (ASCII letters, digits, ``_``, ``-`` and inner dots, at most
:data:`MAX_NAME_LENGTH` characters) exactly as it is, so results folders written before slugs
existed still resume. Any other name becomes its safe ASCII letters followed by ``-`` and ten
hexadecimal digits of its SHA-256: deterministic, and distinct for distinct names (two names
slugging alike would need a collision of the hash).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_NAME_LENGTH = 80
"""The longest name a scenario may give (characters): long enough for a label, short enough
that a file named after it stays far below every file system's limit."""

_ORDINARY = re.compile(r"[A-Za-z0-9_-]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_SLUG_STEM = 40


def check_name(name: str) -> str:
    """``name`` when it is a valid label: not empty, at most :data:`MAX_NAME_LENGTH`
    characters, every character printable (no control character, NUL, line break or tab).
    A :class:`ValueError` with a hint otherwise."""
    if not name.strip():
        raise ValueError("a name cannot be empty or only spaces (hint: give it a word)")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"a name is at most {MAX_NAME_LENGTH} characters, this one has {len(name)} "
            "(hint: shorten it; the description holds longer text)"
        )
    bad = next((c for c in name if not c.isprintable()), None)
    if bad is not None:
        raise ValueError(
            f"a name holds only printable characters, this one holds {bad!r} at position "
            f"{name.index(bad)} (hint: remove control characters, tabs and line breaks)"
        )
    return name


def is_ordinary(name: str) -> bool:
    """Whether ``name`` is its own slug (a file name as it is, on every system)."""
    return len(name) <= MAX_NAME_LENGTH and _ORDINARY.fullmatch(name) is not None


def slug(name: str) -> str:
    """The file-name form of ``name`` (see the module's docstring): safe on every system, one
    path component, never ``.`` or ``..``, never starting with a dot."""
    if is_ordinary(name):
        return name
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("_", ascii_text).strip("_-")[:_SLUG_STEM].strip("_-") or "name"
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{stem}-{digest}"


__all__ = ["MAX_NAME_LENGTH", "check_name", "is_ordinary", "slug"]
