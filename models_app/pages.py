"""Parts that the apps above the catalog add to its pages, without the catalog importing them.

The version page has places (slots) where other apps show what they know of a version:
its review status, the submit form, verified metrics, its history. An app registers a part
in its AppConfig.ready(): the templates it fills each slot with, and a function that
computes their context from the request and the page's objects (the version page passes
`version`; the model page `model` and `versions`, newest first). The catalog's view merges
the contexts and the template includes each slot's templates in registration order.

The review page belongs to the review workflow, the top layer, but shows what evaluation
knows of the version under review; evaluation cannot import the workflow, so the review
page's slots are registered here too (it passes `version`, `review` and `previous`, the
latest published version or None).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

PAGES = ("model", "version", "review")
SLOTS = ("status", "actions", "results", "history")
PartContext = Callable[..., dict]  # (request, **objects) -> context


@dataclass(frozen=True)
class PagePart:
    templates: dict[str, str]  # slot → template name
    context: PartContext


_parts: dict[str, list[PagePart]] = {page: [] for page in PAGES}


def register_page_part(page: str, *, templates: dict[str, str], context: PartContext) -> None:
    if page not in _parts:
        raise ValueError(f"No page {page!r}; pages with parts are {', '.join(PAGES)}.")
    unknown = set(templates) - set(SLOTS)
    if unknown:
        raise ValueError(f"No slot {', '.join(sorted(unknown))} on the {page} page; slots are {', '.join(SLOTS)}.")
    _parts[page].append(PagePart(templates=templates, context=context))


def page_parts(page: str, request: HttpRequest, **objects: object) -> dict:
    """The registered parts' context, merged, plus `slots`: {slot: [template names]}."""
    context: dict = {}
    slots: dict[str, list[str]] = {slot: [] for slot in SLOTS}
    for part in _parts[page]:
        context.update(part.context(request, **objects))
        for slot, template in part.templates.items():
            slots[slot].append(template)
    return {**context, "slots": slots}
