"""What changed between two versions of a model: a pure function over plain data, so the
review page and its tests need no database.

`version_snapshot()` turns a version (with its model and prefetched files) into plain data;
`diff_snapshots(old, new)` compares two of them. `decision_snapshot()` adds what else a
reviewer reads (the model card, the changelog, framework, tags, visibility), and
`changes_since(old, new)` compares two of those: what changed since a reviewer decided.
"""

import difflib
from dataclasses import dataclass, field
from typing import Any

from models_app.cards import CARD_FIELDS, version_card

# The whole model card: what a version carries and what its approval publishes.
METADATA_FIELDS = CARD_FIELDS


@dataclass(frozen=True)
class Change:
    """One key added, removed or changed (a JSON null is a value, so the kind is explicit)."""

    name: str
    kind: str  # "added", "removed" or "changed"
    old: Any = None
    new: Any = None

    @property
    def text_diff(self) -> list[tuple[str, str]]:
        """For a changed multi-line text (the model card): (kind, line) per line of a unified
        diff, kind one of "add", "remove", "context", "hunk"; empty for anything else."""
        if not (isinstance(self.old, str) and isinstance(self.new, str)) or "\n" not in self.old + self.new:
            return []
        lines = difflib.unified_diff(self.old.splitlines(), self.new.splitlines(), lineterm="", n=2)
        kinds = {"+": "add", "-": "remove", "@": "hunk"}
        return [(kinds.get(line[:1], "context"), line) for line in list(lines)[2:]]  # skip the ---/+++ header


@dataclass(frozen=True)
class VersionDiff:
    against: str
    metadata: list[Change] = field(default_factory=list)
    params: list[Change] = field(default_factory=list)
    inputs: list[Change] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)
    files: list[Change] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.metadata or self.params or self.inputs or self.outputs or self.files)


def version_snapshot(version) -> dict[str, Any]:
    """The parts of a version the diff compares. Reads `version.files.all()`: prefetch it.

    The metadata is the card the version carries (taken at submission; the model's working
    copy for a draft), so a review compares what its approval would publish."""
    card = version_card(version).as_dict()
    signature = version.signature if isinstance(version.signature, dict) else {}
    return {
        "version": version.version,
        "metadata": {name: card[name] for name in METADATA_FIELDS},
        "params": version.params if isinstance(version.params, dict) else {},
        "inputs": _specs(signature.get("inputs")),
        "outputs": _specs(signature.get("outputs")),
        "files": {f.path: {"sha256": f.sha256, "size": f.size} for f in version.files.all()},
    }


def _specs(specs: Any) -> dict[str, dict]:
    if not isinstance(specs, list):
        return {}
    return {str(spec["name"]): spec for spec in specs if isinstance(spec, dict) and "name" in spec}


def _compare(old: dict, new: dict, same=lambda a, b: a == b) -> list[Change]:
    changes = [Change(name, "removed", old=old[name]) for name in old if name not in new]
    changes += [Change(name, "added", new=new[name]) for name in new if name not in old]
    changes += [
        Change(name, "changed", old[name], new[name]) for name in old if name in new and not same(old[name], new[name])
    ]
    return sorted(changes, key=lambda change: change.name)


def diff_snapshots(old: dict[str, Any], new: dict[str, Any]) -> VersionDiff:
    """Metadata, params, signature inputs/outputs (by name) and files (by path, compared by SHA-256)."""
    return VersionDiff(
        against=old.get("version", ""),
        metadata=[
            change
            for change in _compare(old.get("metadata", {}), new.get("metadata", {}))
            if (change.old or "") != (change.new or "")  # a field missing from one side counts as blank
        ],
        params=_compare(old.get("params", {}), new.get("params", {})),
        inputs=_compare(old.get("inputs", {}), new.get("inputs", {})),
        outputs=_compare(old.get("outputs", {}), new.get("outputs", {})),
        files=_compare(old.get("files", {}), new.get("files", {}), same=lambda a, b: a["sha256"] == b["sha256"]),
    )


# --- What changed since a reviewer decided on the same version ---

# Long cards are shown in part: a reviewer reads the lines that changed, not a new copy.
MAX_TEXT_DIFF_LINES = 200
TEXT_FIELDS = (("card", "Model card"), ("changelog", "Changelog"))


def decision_snapshot(version) -> dict[str, Any]:
    """What the reviewer saw when deciding: the version snapshot (the card the version
    carries), its visibility, and the card and changelog as text, diffed line by line rather
    than as one metadata value. Reads `version.files.all()`: prefetch it."""
    snapshot = version_snapshot(version)
    metadata = dict(snapshot["metadata"])
    card = metadata.pop("description", "") or ""
    if isinstance(metadata.get("tags"), list | tuple):
        metadata["tags"] = " ".join(metadata["tags"])
    snapshot["metadata"] = {**metadata, "visibility": version.model.visibility}
    snapshot["card"] = card
    snapshot["changelog"] = version.changelog or ""
    return snapshot


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added", "removed", "context" or "hunk" (an @@ line: where the next lines are)
    text: str


@dataclass(frozen=True)
class TextChange:
    name: str
    label: str
    lines: list[DiffLine]
    truncated: bool = False


@dataclass(frozen=True)
class ChangesSince:
    """The version against a decision snapshot: the structured diff plus the texts, line by line."""

    versions: VersionDiff
    texts: list[TextChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.versions.is_empty and not self.texts


def text_diff(old: str, new: str, *, context: int = 2) -> tuple[list[DiffLine], bool]:
    """A unified diff of two texts as lines to show, and whether it was cut short."""
    lines: list[DiffLine] = []
    raw = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=context)
    for line in raw:
        if line.startswith(("---", "+++")):
            continue  # the file headers: both sides are the same field
        if line.startswith("@@"):
            kind, text = "hunk", line
        else:
            kind, text = {"+": "added", "-": "removed"}.get(line[:1], "context"), line[1:]
        lines.append(DiffLine(kind, text))
        if len(lines) >= MAX_TEXT_DIFF_LINES:
            return lines, True
    return lines, False


def changes_since(old: dict[str, Any], new: dict[str, Any]) -> ChangesSince:
    """Files (by SHA-256), metadata, parameters, signature, card and changelog of `new`
    against the snapshot `old` kept when a reviewer decided."""
    texts = []
    for name, label in TEXT_FIELDS:
        before, after = str(old.get(name) or ""), str(new.get(name) or "")
        if before != after:
            lines, truncated = text_diff(before, after)
            if not lines:  # "a" and "a\n": the same lines, different endings
                lines = [DiffLine("hunk", "Only the line endings changed.")]
            texts.append(TextChange(name, label, lines, truncated))
    return ChangesSince(versions=diff_snapshots(old, new), texts=texts)
