"""Cluster text is hostile: make any string safe for one output format.

Everything a report shows may come from the cluster or a file (names, messages, annotations,
event texts, server versions, file names): an ESC sequence must not drive the reader's terminal
(the class of CVE-2021-25743), a control character must not make the JUnit file ill-formed XML,
and a Markdown PR comment must not mention people, link or render HTML. One function per format;
renderers pass every string they print through theirs.

Control characters are not dropped silently but shown as escapes (`\\x1b`), so a reader sees that
the cluster text held one. Lone surrogates (which a JSON input can spell as "\\ud800") cannot be
encoded at all and become U+FFFD in every format.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATES = re.compile("[\ud800-\udfff]")
# Whitespace controls (and the Unicode line and paragraph separators) become one space: every
# place cluster text is shown is a single line.
_BREAKS = re.compile("[\t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]+")
# C0 (but the breaks above), DEL, C1, and the bidirectional overrides and isolates that can make
# text read differently from what it is ("Trojan Source").
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# XML 1.0 forbids every C0 control but tab, newline and carriage return, and U+FFFE/U+FFFF; C1
# controls (NEL included) are legal but drive terminals that display them: escaped too.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: Any) -> str:
    """Any value as a str that every encoder accepts (lone surrogates replaced)."""
    return _SURROGATES.sub("\ufffd", value if isinstance(value, str) else str(value))


def terminal(value: Any) -> str:
    """One line of plain text for a terminal: no control character can reach it."""
    return _CONTROLS.sub(_escape, _BREAKS.sub(" ", text(value)))


def xml(value: Any) -> str:
    """Text for XML 1.0 character data or attributes (ElementTree escapes the markup itself)."""
    return _CONTROLS.sub(_escape, _XML_ILLEGAL.sub(_escape, text(value)))


def html(value: Any) -> str:
    """Text for HTML (Jinja2's autoescaping handles the markup): no control characters."""
    return _CONTROLS.sub(_escape, _XML_ILLEGAL.sub(_escape, text(value)))


# Markdown: the ASCII punctuation that can start inline markup (emphasis, code, links and images,
# strikethrough, table cells, math) is backslash-escaped, as CommonMark allows; <, > and & become
# entities so no raw HTML or entity survives. Text is inline only (one line after a fixed prefix),
# so block markers such as "#" or "-" at a line start never arise.
_MD_ESCAPE = re.compile(r"([\\`*_\[\]|~$!])")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# GitHub and GitLab turn "@team", "#12", "user@example.com", "https://..." and "www..." into mentions,
# references and links even when the punctuation is escaped: a zero-width space after the trigger
# character breaks the pattern and reads the same.
_ZWSP = "\u200b"
_MD_TRIGGERS = re.compile(r"(@|#|:(?=//)|(?<=www)\.)", re.IGNORECASE)


def markdown(value: Any) -> str:
    """Inline Markdown text: one line, no markup, mention, reference, link or HTML of its own."""
    line = " ".join(terminal(value).split())
    line = "".join(_MD_ENTITIES.get(ch, ch) for ch in line)
    line = _MD_TRIGGERS.sub(lambda m: m.group() + _ZWSP, line)
    return _MD_ESCAPE.sub(r"\\\1", line)


def json_value(value: Any) -> Any:
    """A JSON-ready structure with every string encodable (json escapes control characters)."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {text(k) if isinstance(k, str) else k: json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value
