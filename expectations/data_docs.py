"""GX Data Docs that are safe to open and work offline: the views the site builder uses.

Great Expectations 1.24 renders Data Docs with Jinja templates whose names end in ``.j2``,
so its ``select_autoescape(["html", "xml"])`` never applies: a plain string reaching a
template through ``render_content_block`` (a cell of the unexpected-values table, a file
name in the ledger frame, an error message) is written as raw HTML.  GX escapes only the
``params`` of string templates.  :class:`SafePageView` and :class:`SafeIndexPageView`
escape every plain value at that one door, whatever it came from; the renderers'
own markup arrives as content blocks (dicts), which are rendered as before.

They also load templates from ``data_docs_templates/`` before GX's own: copies of GX's
page, index, navbar and info templates without the CDN stylesheets and scripts (Bootstrap,
jQuery, bootstrap-table, Font Awesome, Vega), the newsletter footer and the logo URL that
carries the context id, plus a small local stylesheet (``csp_offline.css``, inlined) and
an index table rendered as plain HTML instead of by bootstrap-table.  The pages then make
no request outside their folder; the images come from the ``static/`` folder GX copies
into the site.  ``expectations.runner.make_context`` names these views in the site
config.  A GX upgrade must re-check the copies (``tests/test_safe_rendering.py`` fails on
any external ``src``/``href`` or unescaped markup).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from great_expectations.render import RenderedComponentContent
from great_expectations.render.view.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, TemplateNotFound, pass_context

TEMPLATES = Path(__file__).with_name("data_docs_templates")


class _OfflineStyles(BaseLoader):
    """GX's ``data_docs_default_styles.css`` (inlined in every page) without its one web
    image, a dark-mode logo: ``url('https://…')`` becomes ``none``."""

    NAME = "data_docs_default_styles.css"

    def __init__(self, fallback: BaseLoader) -> None:
        self.fallback = fallback

    def get_source(self, environment, template):
        if template != self.NAME:
            raise TemplateNotFound(template)
        source, filename, _ = self.fallback.get_source(environment, template)
        return re.sub(r"url\(\s*['\"]?https?://[^)]*\)", "none", source), filename, lambda: True


def _is_block(value: Any) -> bool:
    return isinstance(value, RenderedComponentContent) or (
        isinstance(value, dict) and "content_block_type" in value
    )


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


class _SafeOffline:
    """Mixin over GX's Jinja page views (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gx_loader = self.env.loader
        self.env.loader = ChoiceLoader(
            [FileSystemLoader(str(TEMPLATES)), _OfflineStyles(gx_loader), gx_loader]
        )
        self.env.filters["render_content_block"] = self.render_content_block

    @pass_context
    def render_content_block(
        self,
        jinja_context: Any,
        content_block: Any,
        index: Any = None,
        content_block_id: Any = None,
        render_to_markdown: bool = False,
    ) -> str:
        """GX's filter, except that a value that is not a content block is escaped text."""
        if content_block is None:
            return ""
        if isinstance(content_block, list):
            parts = []
            for idx, element in enumerate(content_block):
                if _is_block(element):
                    element_id = f"{content_block_id}-{idx}" if content_block_id else None
                    parts.append(
                        self.render_content_block(
                            jinja_context, element, idx, content_block_id=element_id
                        )
                    )
                else:
                    parts.append(
                        escape(element) if render_to_markdown else f"<span>{escape(element)}</span>"
                    )
            return "".join(parts)
        if isinstance(content_block, RenderedComponentContent):
            content_block = content_block.to_json_dict()
        if _is_block(content_block):
            return super().render_content_block(
                jinja_context, content_block, index, content_block_id, render_to_markdown
            )
        return escape(content_block)


class SafePageView(_SafeOffline, DefaultJinjaPageView):
    """Suite and validation-result pages."""


class SafeIndexPageView(_SafeOffline, DefaultJinjaIndexPageView):
    """The site's index page."""
