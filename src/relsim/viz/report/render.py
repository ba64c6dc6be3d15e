"""How the report is written: its blocks, its number formats, and Markdown and HTML.

Every section of the report (and the sweep's report) is a list of ``(kind, payload)`` blocks
(h1, h2, p, table, img); this module holds the cell formats the sections share (money,
percent, an estimate with its interval) and the two renderers, so that the sections say what
to show and only this module says how it looks.
"""

from __future__ import annotations

import base64
import html
import re
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
    """The report as Markdown. Every text is written as text: a ``<`` is escaped, so a name
    such as ``<script>`` is shown, never taken for HTML by a Markdown viewer; table cells also
    escape ``|``."""
    out = []
    for kind, payload in blocks:
        if kind == "h1":
            out.append(f"# {md_text(payload)}\n")
        elif kind == "h2":
            out.append(f"## {md_text(payload)}\n")
        elif kind in ("p", "caption"):
            out.append(f"{md_text(payload)}\n")
        elif kind == "warning":
            out.append(f"> **Warning:** {md_text(payload)}\n")
        elif kind in ("table", "raw"):
            out.append(_markdown_table(payload) + "\n")
        elif kind == "img":
            out.append(f"![{payload}](plots/{payload})\n")
        elif kind == "code":
            out.append(f"```\n{payload}\n```\n")
        elif kind == "summary":
            out.append("\n".join(f"- {_topic(md_text(line), '**')}" for line in payload) + "\n")
    return "\n".join(out)


def md_text(text: Any) -> str:
    """``text`` as Markdown that reads as the text itself: ``<`` (the start of raw HTML or an
    autolink) and a backslash before it are escaped; Markdown's emphasis is left to the
    report's own words."""
    return str(text).replace("\\<", "\\\\<").replace("<", "\\<")


def _md_cell(value: Any) -> str:
    return md_text(value).replace("|", "\\|")


def flat(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with its index as the first column when the index carries data (no empty
    index row under the header)."""
    if any(n for n in frame.index.names) or not isinstance(frame.index, pd.RangeIndex):
        return frame.reset_index(names=[n or "" for n in frame.index.names])
    return frame


def _markdown_table(frame: pd.DataFrame) -> str:
    frame = flat(frame)
    header = "| " + " | ".join(_md_cell(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| " + " | ".join(_md_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;
color:#222;line-height:1.45}table{border-collapse:collapse;margin:1em 0;font-size:.85em;
max-width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;
overflow-wrap:break-word}th{background:#f3f3f3;font-weight:600}td.num{text-align:right;
white-space:nowrap}td.num .ci{display:block;font-size:.85em;color:#666}img{max-width:100%;
margin:.5em 0}h2{border-bottom:1px solid #ddd;margin-top:1.6em}p.caption{font-size:.9em;
color:#444;margin-top:0}div.summary{background:#f5f8fc;border:1px solid #c9d7ea;
border-radius:6px;padding:.6em 1.2em;margin:1em 0}div.summary li{margin:.35em 0}
p.warning{background:#fff4e0;border-left:4px solid #e69500;padding:.5em .8em}
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;overflow-wrap:anywhere}"""

_NUMBER = re.compile(r"^[-+−]?[\d.,]+( [kM])?%?( \[[-+−\d.,%kM ]+, [-+−\d.,%kM ]+\])?( \*)?$")


def _cell(value: Any) -> str:
    """One table cell: numbers right-aligned, an interval on a line of its own below its
    estimate."""
    text = str(value)
    if text == "—":
        return "<td class='num'>—</td>"
    if not text or not _NUMBER.match(text):
        return f"<td>{html.escape(text)}</td>"
    estimate, _, rest = text.partition(" [")
    if not rest:
        return f"<td class='num'>{html.escape(text)}</td>"
    interval, _, mark = rest.rpartition("]")
    return (
        f"<td class='num'>{html.escape(estimate)}{html.escape(mark)}"
        f"<span class='ci'>[{html.escape(interval)}]</span></td>"
    )


def _html_table(frame: pd.DataFrame) -> str:
    frame = flat(frame)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = [
        "<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in frame.itertuples(index=False)
    ]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _topic(line: str, mark: str) -> str:
    """A summary line's topic ("Recommendation:") in bold."""
    topic, sep, rest = line.partition(": ")
    if not sep or len(topic) > 30:
        return line
    close = "</strong>" if mark == "<strong>" else mark
    return f"{mark}{topic}:{close} {rest}"


def _bold(text: str) -> str:
    text = html.escape(str(text))
    while text.count("**") >= 2:  # bold, as in the Markdown
        text = text.replace("**", "<strong>", 1).replace("**", "</strong>", 1)
    return text


def to_html(blocks: list[Block], plots: Path) -> str:
    body = []
    for kind, payload in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(str(payload))}</{kind}>")
        elif kind in ("p", "caption"):
            body.append(f"<p class='{kind}'>{_bold(payload)}</p>")
        elif kind == "warning":
            body.append(f"<p class='warning'><strong>Warning:</strong> {_bold(payload)}</p>")
        elif kind == "summary":
            items = "".join(f"<li>{_topic(_bold(line), '<strong>')}</li>" for line in payload)
            body.append(f"<div class='summary'><ul>{items}</ul></div>")
        elif kind in ("table", "raw"):
            body.append(_html_table(payload))
        elif kind == "code":
            body.append(f"<pre>{html.escape(str(payload))}</pre>")
        elif kind == "img":
            data = base64.b64encode((plots / payload).read_bytes()).decode()
            alt = html.escape(Path(payload).stem.replace("_", " "))
            body.append(f'<img alt="{alt}" src="data:image/png;base64,{data}">')
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>relsim report</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


__all__ = ["STYLE", "Block", "ci", "flat", "money", "pct", "to_html", "to_markdown"]
