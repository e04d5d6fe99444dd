"""A model's card: the reviewed one the public reads, and the owner's working copy.

The review promise is that nothing a reviewer has not seen is public. A model's card is its
summary, Markdown description, task, framework, license and tags. It is kept twice:

- **The published card** is the model's own columns (`summary`, `description`, `task`,
  `framework`, `license`, `tags`/`tags_text`). Everything that lists or searches models
  reads them: the catalog, search (the PostgreSQL vector and any other index is built from
  them), facet counts, filters, the API, the home and user pages. A reader that knows
  nothing of review therefore shows reviewed text: the design fails closed.
- **The working copy** is the published card overlaid with `RegisteredModel.pending_card`,
  which holds only the fields the owner changed since the last approval ({} when none).
  The owner, reviewers and staff see it on the model page and in the API's
  `pending_edits`; the edit form starts from it.

Until a model has a release (`has_release`, kept by the approval service) nobody outside its
owner, reviewers and staff can see it at all, so an owner's edits go straight into the
columns and `pending_card` stays empty. From the first approval on:

1. `model_update` writes an owner's card edits into `pending_card`, never the columns.
2. `version_submit` copies the working copy into the version (`ModelVersion.card`): the
   card a version carries is the one its reviewer sees on the review page, with the diff
   against the previous approval (reviews_app.diff).
3. Approval (`models_app.services.model_publish_card`) makes the version's card the
   published one, and keeps in `pending_card` only what the owner changed after submitting.

So the public page always shows the card of the latest approval, and an edit goes public
only with the approval of a version that carries it.

Model methods compute only from their own row; these functions read only the row (tags
from `tags_text`), so they cost no query.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .models import Framework, License, RegisteredModel, Task

CARD_FIELDS = ("summary", "description", "task", "framework", "license", "tags")
TEXT_FIELDS = ("summary", "description", "task", "framework", "license")  # tags: a list of slugs
CARD_LABELS = {
    "summary": "summary", "description": "model card", "task": "task",
    "framework": "framework", "license": "license", "tags": "tags",
}  # fmt: skip


@dataclass(frozen=True)
class Card:
    summary: str = ""
    description: str = ""
    task: str = ""
    framework: str = ""
    license: str = ""
    tags: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, base: "Card | None" = None) -> "Card":
        """A card from stored JSON (a version's card, a model's pending edits) over `base`.

        Unknown keys and values of the wrong type are ignored rather than trusted: the JSON
        is written only by the services, but an old row may hold less than today's fields.
        """
        values = dict(base.as_dict()) if base is not None else {}
        for name in TEXT_FIELDS:
            if isinstance(data.get(name), str):
                values[name] = data[name]
        tags = data.get("tags")
        if isinstance(tags, (list, tuple)) and all(isinstance(tag, str) for tag in tags):
            values["tags"] = tags
        values["tags"] = tuple(sorted(set(values.get("tags", ()))))
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, tags as a sorted list."""
        return {**{name: getattr(self, name) for name in TEXT_FIELDS}, "tags": list(self.tags)}

    def changes_from(self, other: "Card") -> dict[str, Any]:
        """The fields (JSON-ready) in which this card differs from `other`."""
        mine, theirs = self.as_dict(), other.as_dict()
        return {name: mine[name] for name in CARD_FIELDS if mine[name] != theirs[name]}

    @property
    def task_label(self) -> str:
        return dict(Task.choices).get(self.task, self.task)

    @property
    def framework_label(self) -> str:
        return dict(Framework.choices).get(self.framework, self.framework)

    @property
    def license_label(self) -> str:
        return dict(License.choices).get(self.license, self.license)


def published_card(model: RegisteredModel) -> Card:
    """What the public sees: the model's columns."""
    return Card.from_data(
        {name: getattr(model, name) for name in TEXT_FIELDS} | {"tags": (model.tags_text or "").split()}
    )


def working_card(model: RegisteredModel) -> Card:
    """The owner's current card: the published one with the pending edits over it."""
    pending = model.pending_card if isinstance(model.pending_card, dict) else {}
    return Card.from_data(pending, base=published_card(model))


def pending_fields(model: RegisteredModel) -> list[str]:
    """The card fields the owner changed since the last approval, in CARD_FIELDS order."""
    return list(working_card(model).changes_from(published_card(model)))


def version_card(version) -> Card:
    """The card a version carries: taken at its submission; the model's working copy for a
    draft (what it would carry if submitted now) or a version submitted before cards were kept."""
    if isinstance(version.card, dict) and version.card:
        return Card.from_data(version.card, base=published_card(version.model))
    return working_card(version.model)
