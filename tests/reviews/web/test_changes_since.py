"""What changed since a reviewer decided: the structured diff plus the card and changelog,
line by line (pure functions over plain data)."""

from reviews_app.diff import MAX_TEXT_DIFF_LINES, Change, DiffLine, changes_since, text_diff

OLD = {
    "version": "1.0.0",
    "metadata": {"summary": "Iris", "license": "MIT", "task": "tabular-classification", "framework": "onnx",
                 "tags": "iris tabular", "visibility": "public"},
    "params": {"C": 1.0},
    "inputs": {},
    "outputs": {},
    "files": {"model.onnx": {"sha256": "a" * 64, "size": 10}, "labels.txt": {"sha256": "b" * 64, "size": 3}},
    "card": "# Iris\n\nA model.\n\n## Intended use\n\nTeaching.",
    "changelog": "First release.",
}  # fmt: skip


def test_nothing_changed_is_empty():
    assert changes_since(OLD, dict(OLD)).is_empty


def test_files_are_compared_by_sha256_and_listed_by_path():
    new = {
        **OLD,
        "files": {"model.onnx": {"sha256": "c" * 64, "size": 10}, "notes.md": {"sha256": "d" * 64, "size": 1}},
    }
    since = changes_since(OLD, new)
    assert [(c.name, c.kind) for c in since.versions.files] == [
        ("labels.txt", "removed"),
        ("model.onnx", "changed"),
        ("notes.md", "added"),
    ]
    assert not since.texts


def test_metadata_beyond_the_version_snapshot_is_compared():
    new = {**OLD, "metadata": {**OLD["metadata"], "tags": "iris", "license": "Apache-2.0"}}
    assert changes_since(OLD, new).versions.metadata == [
        Change("license", "changed", "MIT", "Apache-2.0"),
        Change("tags", "changed", "iris tabular", "iris"),
    ]


def test_card_and_changelog_changes_are_shown_line_by_line():
    new = {**OLD, "card": "# Iris\n\nA logistic regression.\n\n## Intended use\n\nTeaching.", "changelog": "Retrained."}
    since = changes_since(OLD, new)
    card, changelog = since.texts
    assert (card.name, card.label, changelog.name) == ("card", "Model card", "changelog")
    assert DiffLine("removed", "A model.") in card.lines and DiffLine("added", "A logistic regression.") in card.lines
    assert DiffLine("context", "# Iris") in card.lines  # the lines around a change give its place
    assert card.lines[0].kind == "hunk"
    assert [line.kind for line in changelog.lines if line.kind != "hunk"] == ["removed", "added"]


def test_a_card_written_from_nothing_is_all_added():
    since = changes_since({**OLD, "card": ""}, OLD)
    [card] = since.texts
    assert {line.kind for line in card.lines} == {"hunk", "added"}


def test_a_change_of_line_endings_only_is_still_said():
    [card] = changes_since(OLD, {**OLD, "card": OLD["card"] + "\n"}).texts
    assert card.lines == [DiffLine("hunk", "Only the line endings changed.")]


def test_a_long_rewrite_is_cut_short_and_says_so():
    old = "\n".join(f"line {i}" for i in range(1000))
    new = "\n".join(f"new line {i}" for i in range(1000))
    lines, truncated = text_diff(old, new)
    assert truncated and len(lines) == MAX_TEXT_DIFF_LINES


def test_a_snapshot_missing_a_field_counts_it_as_blank():
    older = {key: value for key, value in OLD.items() if key not in ("card", "changelog")}
    kinds = {t.name for t in changes_since(older, OLD).texts}
    assert kinds == {"card", "changelog"}
