"""Template filters for the catalog pages: the sanitized model card and small formatters."""

import json
import re
from typing import Any

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

MARKDOWN_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
# Only schemes that cannot run code; a `javascript:` or `data:` href is dropped entirely.
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Markdown → HTML → an allow-list sanitizer; the sanitizer is the security boundary.

    `markdown` passes raw HTML through, so everything it outputs goes through nh3: script,
    style and event-handler attributes are removed, links get rel="noopener nofollow".
    Images stay, but the CSP (img-src 'self') keeps them from calling other hosts. The result is never rendered as a template, so `{{ ... }}` in a card
    stays text.
    """
    html = markdown_lib.markdown(text or "", extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return _shift_headings(nh3.clean(html, url_schemes=URL_SCHEMES, link_rel="noopener nofollow"))


# Rendered text sits under the page's <h1> and a section's <h2>: a card's "# Title" becomes
# an <h3>, so the page keeps one <h1> and its outline stays true.
HEADING_SHIFT = 2
_HEADING_TAG = re.compile(r"<(/?)h([1-6])(?=[\s>])")


def _shift_headings(html: str) -> str:
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + HEADING_SHIFT)}", html)


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitized by nh3 above


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON for params and signatures; autoescaped by the template as text."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@register.filter
def short_sha(value: str | None) -> str:
    return (value or "")[:12]


@register.filter
def metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@register.filter
def json_inline(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template, or None (a metric name held in a variable)."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def signed(value: Any) -> str:
    """A delta with its sign: +0.0123, −0.0040."""
    if not isinstance(value, (int, float)):
        return str(value)
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{abs(value):.4g}"
