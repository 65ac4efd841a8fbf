"""Notebook to HTML: nbconvert's lab template, with its accessibility pass made linear.

nbconvert's ``HTMLExporter`` re-parses the whole page with BeautifulSoup after rendering, only to
give images without ``alt`` a default one and make cell inputs and outputs focusable
(``tabindex="0"``). On a 20 MB report that pass takes 10 s of the 11 s the render costs.
``ReportHTMLExporter`` renders the same template and makes the same three changes with
``make_accessible``, a single regex pass that touches those tags only and leaves every other
byte of the page as the template wrote it. ``tests/unit/test_render.py`` checks that the result
is the same document as nbconvert's.
"""

from __future__ import annotations

import functools
import re
import threading
import warnings
from typing import TYPE_CHECKING, Any

import nbformat

if TYPE_CHECKING:
    from nbconvert import HTMLExporter

DEFAULT_ALT = "No description has been provided for this image"  # nbconvert's words
_FOCUSABLE = frozenset({"jp-Cell-inputWrapper", "jp-OutputArea-output"})

# Text the browser never parses as tags: comments and the bodies of <script> and <style>.
_RAW_TEXT = re.compile(r"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_NAME = r"""[^\s"'>/=]+"""
_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+)"""  # double-quoted, single-quoted or bare
_TAG = re.compile(rf"<(img|div)((?:\s+{_NAME}(?:\s*=\s*{_VALUE})?)*)\s*(/?)>", re.I)
_ATTRS = re.compile(rf"({_NAME})(?:\s*=\s*({_VALUE}))?")
_TABINDEX = re.compile(rf"\s+tabindex(?:\s*=\s*{_VALUE})?", re.I)


def make_accessible(html: str) -> str:
    """``html`` with the changes nbconvert's BeautifulSoup pass makes, in one regex pass.

    These are ``alt`` on every ``<img>`` lacking one, and ``tabindex="0"`` on the cells' input
    wrappers and outputs, outside comments, scripts and styles.
    """
    parts, last = [], 0
    for raw in _RAW_TEXT.finditer(html):
        parts += [_TAG.sub(_fix_tag, html[last : raw.start()]), raw.group(0)]
        last = raw.end()
    parts.append(_TAG.sub(_fix_tag, html[last:]))
    return "".join(parts)


def _fix_tag(match: re.Match[str]) -> str:
    name, attrs, slash = match.group(1), match.group(2), match.group(3)
    found = {m.group(1).lower(): m.group(2) for m in _ATTRS.finditer(attrs)}
    if name.lower() == "img":
        if "alt" in found:
            return match.group(0)
        return f'<{name}{attrs} alt="{DEFAULT_ALT}"{slash}>'
    classes = (found.get("class") or "").strip("\"'").split()
    if not _FOCUSABLE.intersection(classes):
        return match.group(0)
    return f'<{name}{_TABINDEX.sub("", attrs)} tabindex="0"{slash}>'


@functools.cache
def _exporter_class() -> type[HTMLExporter]:
    """Defined on first use: importing nbconvert costs about 0.4 s."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportHTMLExporter(HTMLExporter):
        def from_notebook_node(  # type: ignore[override]  # nbconvert's HTMLExporter returns str too
            self,
            nb: nbformat.NotebookNode,
            resources: dict[str, Any] | None = None,
            **kw: Any,
        ) -> tuple[str, dict[str, Any]]:
            # HTMLExporter.from_notebook_node (nbconvert 7.17) up to its BeautifulSoup pass
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)  # type: ignore[no-untyped-call]  # unannotated in nbconvert
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)  # type: ignore[no-untyped-call]  # as above
            self.register_filter("filter_data_type", filter_data_type)  # type: ignore[no-untyped-call]  # as above
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return make_accessible(html), resources

    return ReportHTMLExporter


_exporters: dict[bool, HTMLExporter] = {}
_exporters_lock = threading.Lock()  # also makes a render wait for a warm-up in progress


def render_html(nb: nbformat.NotebookNode, *, hide_code: bool = False, title: str | None = None) -> str:
    """The notebook as one self-contained HTML page; code cells hidden when ``hide_code``."""
    resources = {"metadata": {"name": title}} if title else None
    with _exporters_lock, warnings.catch_warnings():  # scrap outputs have no visual form: expected
        warnings.filterwarnings("ignore", message=".*is not able to be represented", category=UserWarning)
        if hide_code not in _exporters:  # kept: each compiles its Jinja templates once
            _exporters[hide_code] = _exporter_class()(
                exclude_input=hide_code, exclude_input_prompt=hide_code, exclude_output_prompt=hide_code
            )
        body, _ = _exporters[hide_code].from_notebook_node(nb, resources=resources)
    return str(body)


def warm_html_renderer(hide_code: bool = False) -> None:
    """Import nbconvert and compile its templates ahead of ``render_html``.

    That costs about 1 s the first time, so it is done e.g. in a thread while the notebook runs.
    """
    render_html(nbformat.v4.new_notebook(), hide_code=hide_code)
