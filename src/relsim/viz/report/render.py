"""How the report is written: its blocks, its number formats, and Markdown and HTML.

Every section of the report (and the sweep's report) is a list of ``(kind, payload)`` blocks
(h1, h2, p, table, img); this module holds the cell formats the sections share (money,
percent, an estimate with its interval) and the two renderers, so that the sections say what
to show and only this module says how it looks.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

Block = tuple[str, Any]


def money(x: float | None) -> str:
    """A money amount without decimals, '—' when missing."""
    return "—" if x is None or pd.isna(x) else f"{x:,.0f}"


def pct(x: float | None) -> str:
    """A share as a percentage with one decimal, '—' when missing."""
    return "—" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


def ci(mean: float, low: float, high: float, fmt: Any = money) -> str:
    """An estimate with its interval: ``mean [low, high]`` in the format ``fmt``."""
    return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for kind, payload in blocks:
        if kind == "h1":
            out.append(f"# {payload}\n")
        elif kind == "h2":
            out.append(f"## {payload}\n")
        elif kind == "p":
            out.append(f"{payload}\n")
        elif kind == "table":
            out.append(_markdown_table(payload) + "\n")
        elif kind == "img":
            out.append(f"![{payload}](plots/{payload})\n")
    return "\n".join(out)


def _markdown_table(frame: pd.DataFrame) -> str:
    names = [n or "" for n in frame.index.names]
    frame = frame.reset_index(names=names)
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;
padding:.3em .6em;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{
text-align:left}img{max-width:100%;margin:.5em 0}h2{border-bottom:1px solid #ddd}"""


def to_html(blocks: list[Block], plots: Path) -> str:
    body = []
    for kind, payload in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(str(payload))}</{kind}>")
        elif kind == "p":
            text = html.escape(str(payload))
            while "**" in text:  # bold, as in the Markdown
                text = text.replace("**", "<strong>", 1).replace("**", "</strong>", 1)
            body.append(f"<p>{text}</p>")
        elif kind == "table":
            body.append(payload.to_html(escape=True, border=0))
        elif kind == "img":
            data = base64.b64encode((plots / payload).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(payload)}" src="data:image/png;base64,{data}">')
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>relsim report</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


__all__ = ["STYLE", "Block", "ci", "money", "pct", "to_html", "to_markdown"]
