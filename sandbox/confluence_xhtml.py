"""Parsing Confluence storage format (XHTML with `ac:`/`ri:` elements) into an element tree.

Confluence refuses storage that is not well-formed XML ("Error parsing xhtml: ..."), so the sandbox
parses every body it is sent; a stray `&` or an unclosed tag fails here as it fails there. Storage
is a fragment with undeclared namespace prefixes and HTML named entities (`&nbsp;`), so it is wrapped
in a root element that declares both before expat sees it. Users cannot declare entities of their
own: their text lands inside the root element, where a DOCTYPE is a syntax error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.entities import name2codepoint

AC = "http://atlassian.com/content"
RI = "http://atlassian.com/resource/identifier"
AT = "http://atlassian.com/template"
NAMESPACES = {"ac": AC, "ri": RI, "at": AT}

# XML's own five entities must not be redeclared; every other HTML name maps to its code point.
_XML_PREDEFINED = {"amp", "lt", "gt", "quot", "apos"}
_ENTITIES = "".join(
    f'<!ENTITY {name} "&#{code};">' for name, code in sorted(name2codepoint.items())
    if name not in _XML_PREDEFINED
)
_NS_DECLS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
# The body starts on line 3 so that error positions can be reported relative to it.
_PREFIX = f"<!DOCTYPE storage [{_ENTITIES}]>\n<storage {_NS_DECLS}>\n"
_SUFFIX = "\n</storage>"
_BODY_FIRST_LINE = 3


class StorageFormatError(ValueError):
    """The body is not well-formed storage format."""


def ac(name: str) -> str:
    """The qualified tag or attribute name of `ac:<name>` as ElementTree spells it."""
    return f"{{{AC}}}{name}"


def ri(name: str) -> str:
    """The qualified tag or attribute name of `ri:<name>` as ElementTree spells it."""
    return f"{{{RI}}}{name}"


def parse_storage(value: str) -> ET.Element:
    """Parse a storage-format body; the returned root's children are the body's top elements."""
    try:
        root = ET.fromstring(_PREFIX + value + _SUFFIX)
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(": line ", 1)[0]
        row = max(line - _BODY_FIRST_LINE + 1, 1)
        raise StorageFormatError(f"Error parsing xhtml: {reason} at [row,col]: [{row},{column + 1}]") from exc
    # Take back the two line breaks the wrapper added around the body.
    root.text = (root.text or "")[1:]
    last = root[-1] if len(root) else None
    if last is None:
        root.text = root.text[:-1]
    else:
        last.tail = (last.tail or "")[:-1]
    return root


def check_storage(value: str) -> None:
    """Raise `StorageFormatError` unless `value` is well-formed storage format."""
    parse_storage(value)


def text_of(element: ET.Element) -> str:
    """All text inside an element, tags dropped."""
    return "".join(element.itertext())
