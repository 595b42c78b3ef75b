"""OpenNebula templates: the `KEY = value` / `KEY = [ A = "1" ]` language and its XML form.

A template is an ordered list of (NAME, value) where value is a string or, for a vector, a list of
(NAME, string). Names are upper-cased, as oned does. Vectors may repeat (DISK, NIC, AR).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

Vector = list[tuple[str, str]]
Value = str | Vector
Template = list[tuple[str, Value]]


class TemplateError(ValueError):
    pass


_TOKEN = re.compile(
    r'\s*(?:(?P<comment>#[^\n]*)|(?P<name>[A-Za-z0-9_\-]+)\s*=\s*|(?P<quoted>"(?:[^"\\]|\\.)*")'
    r'|(?P<open>\[)|(?P<close>\])|(?P<comma>,)|(?P<bare>[^\s,\]\["#][^\n,\]]*))',
    re.S,
)


def parse(text: str) -> Template:
    """Either syntax, chosen the way oned chooses: XML when the text starts with '<'."""
    text = text.strip()
    if text.startswith("<"):
        return _parse_xml(text)
    return _parse_one(text)


def _parse_xml(text: str) -> Template:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise TemplateError(f"Parse error: {exc}") from None
    out: Template = []
    for child in root:
        if len(child):
            out.append((child.tag.upper(), [(g.tag.upper(), g.text or "") for g in child]))
        else:
            out.append((child.tag.upper(), child.text or ""))
    return out


def _unquote(token: str) -> str:
    return token[1:-1].replace('\\"', '"')


def _parse_one(text: str) -> Template:
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise TemplateError(f"syntax error, unexpected {text[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind != "comment":
            tokens.append((kind, m.group(kind)))
    out: Template = []
    i = 0

    def value_at(j: int) -> tuple[str, int]:
        if j < len(tokens) and tokens[j][0] == "quoted":
            return _unquote(tokens[j][1]), j + 1
        if j < len(tokens) and tokens[j][0] == "bare":
            return tokens[j][1].strip(), j + 1
        return "", j

    while i < len(tokens):
        kind, tok = tokens[i]
        if kind != "name":
            raise TemplateError(f"syntax error, unexpected {tok!r}, expecting an attribute name")
        name = tok.upper()
        i += 1
        if i < len(tokens) and tokens[i][0] == "open":
            i += 1
            vector: Vector = []
            while i < len(tokens) and tokens[i][0] != "close":
                if tokens[i][0] == "comma":
                    i += 1
                    continue
                if tokens[i][0] != "name":
                    raise TemplateError(f"syntax error in vector {name}: unexpected {tokens[i][1]!r}")
                sub = tokens[i][1].upper()
                val, i = value_at(i + 1)
                vector.append((sub, val))
            if i >= len(tokens):
                raise TemplateError(f"syntax error: vector {name} is not closed")
            i += 1
            if vector:  # oned drops empty vectors
                out.append((name, vector))
        else:
            val, i = value_at(i)
            out.append((name, val))
    return out


def get(t: Template, name: str) -> Value | None:
    return next((v for k, v in t if k == name), None)


def get_str(t: Template, name: str, default: str = "") -> str:
    v = get(t, name)
    return v if isinstance(v, str) else default


def vectors(t: Template, name: str) -> list[Vector]:
    return [v for k, v in t if k == name and isinstance(v, list)]


def vget(v: Vector, name: str, default: str = "") -> str:
    return next((x for k, x in v if k == name), default)


def put(t: Template, name: str, value: Value) -> Template:
    """Replace every attribute called name by one with value."""
    return [*((k, v) for k, v in t if k != name), (name, value)]


def remove(t: Template, names: set[str]) -> Template:
    return [(k, v) for k, v in t if k not in names]


def merge(base: Template, new: Template) -> Template:
    """Template::merge: each top-level name in `new` replaces every same-named attribute of `base` whole."""
    names = {k for k, _ in new}
    return [*((k, v) for k, v in base if k not in names), *new]


def to_xml(tag: str, t: Template) -> str:
    parts = [f"<{tag}>"]
    for k, v in t:
        if isinstance(v, list):
            inner = "".join(f"<{sk}>{_cdata(sv)}</{sk}>" for sk, sv in v)
            parts.append(f"<{k}>{inner}</{k}>")
        else:
            parts.append(f"<{k}>{_cdata(v)}</{k}>")
    parts.append(f"</{tag}>")
    return "".join(parts)


def _cdata(value: str) -> str:
    if "]]>" in value:
        return escape(value)
    return f"<![CDATA[{value}]]>"
