"""Where okrbridge's Jinja2 templates live and the environment that renders Confluence storage format.

The templates sit in the repository's top-level `templates/` folder, which installs as the package
`okrbridge_templates` (see setup.py). A source checkout (run from the tree, or installed editable
before that mapping existed) uses the folder beside the `okrbridge` package; an installed wheel
uses the package. Building an environment reads no file until a template is asked for.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

import okrbridge

_MARKER = Path("confluence") / "audience.xml.j2"
# Characters XML 1.0 cannot carry at all, even escaped: a title holding one would make the page
# unparseable, so they are dropped from every value a template prints.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def templates_root() -> Path:
    """The folder holding `confluence/` (and any other renderer's templates)."""
    beside = Path(okrbridge.__file__).resolve().parent.parent / "templates"
    if (beside / _MARKER).is_file():
        return beside
    installed = Path(str(resources.files("okrbridge_templates")))
    if not (installed / _MARKER).is_file():
        raise FileNotFoundError(f"okrbridge's templates are missing: no {_MARKER} in {installed}")
    return installed


def xml_text(value: Any) -> Any:
    """A value as a template prints it: None as empty, text without XML-forbidden characters.

    Escaping (`&`, `<`, `>`, quotes) is done after this by autoescape; Markup passes unchanged.
    """
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _NOT_XML.sub("", value)
    return value


def confluence_environment() -> jinja2.Environment:
    """A Jinja2 environment over `templates/confluence`: every value escaped for XML, undefined
    names an error, block tags leaving no blank lines."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_root() / "confluence"),
        autoescape=True, undefined=jinja2.StrictUndefined, finalize=xml_text,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
