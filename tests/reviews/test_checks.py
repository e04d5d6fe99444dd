"""The automated checks' verdicts on crafted versions: each is pass, warn or fail with a
sentence, stored on the review when the version is submitted."""

import pytest

from models_app.models import RegisteredModel
from reviews_app import services
from reviews_app.checks import CHECKS, run_checks
from tests.factories import make_model, make_version, tiny_onnx_bytes

from .conftest import GOOD_CARD, SIGNATURE

pytestmark = pytest.mark.django_db


def verdict(version, previous=None, name: str = "") -> tuple[str, str]:
    result = next(r for r in run_checks(version, previous) if r["name"] == name)
    assert result["message"].endswith(".") and len(result["message"]) > 10
    return result["status"], result["message"]


def with_inputs(*inputs: dict) -> dict:
    return {"inputs": list(inputs), "outputs": SIGNATURE["outputs"]}


FEATURES = {"name": "features", "type": "float32", "shape": [None, 4]}


def test_the_registry_lists_the_checks_in_order():
    assert [name for name, _ in CHECKS] == [
        "files", "license", "model_card", "version_order", "signature", "scan", "evaluations", "regression",
    ]  # fmt: skip


def test_a_good_version_passes_everything_but_is_warned_it_has_no_verified_metrics(draft):
    assert {r["name"]: r["status"] for r in run_checks(draft, None)} == {
        **dict.fromkeys(["files", "license", "model_card", "version_order", "signature", "scan", "regression"], "pass"),
        "evaluations": "warn",
    }


class TestFiles:
    def test_no_files_fail(self, model):
        assert verdict(make_version(model, "1.0.0"), name="files") == ("fail", "The version has no files.")

    def test_an_empty_file_warns(self, model):
        files = {"model.onnx": tiny_onnx_bytes(), "empty.bin": b""}
        status, message = verdict(make_version(model, "1.0.0", files=files), name="files")
        assert status == "warn" and "empty.bin" in message

    def test_a_model_file_passes(self, model):
        files = {"model.onnx": tiny_onnx_bytes(), "README.md": b"# Notes"}
        status, message = verdict(make_version(model, "1.0.0", files=files), name="files")
        assert status == "pass" and message.startswith("2 file(s), ")

    def test_a_name_that_claims_a_format_its_bytes_do_not_have_fails(self, model):
        files = {"garbage.onnx": b"this is only text", "model.onnx": tiny_onnx_bytes()}
        status, message = verdict(make_version(model, "1.0.0", files=files), name="files")
        assert status == "fail"
        assert message == "garbage.onnx is named like an ONNX file, but its bytes are Text."

    def test_bytes_of_no_known_format_fail(self, model):
        files = {"weights.bin": b"\xff\xfe\x00\x01garbage", "model.onnx": tiny_onnx_bytes()}
        status, message = verdict(make_version(model, "1.0.0", files=files), name="files")
        assert status == "fail" and message.startswith("The bytes of weights.bin match no known model or data format")

    def test_a_version_whose_only_files_are_not_models_fails(self, model):
        files = {"predictions.csv": b"prediction\n1\n", "README.md": b"# Notes"}
        status, message = verdict(make_version(model, "1.0.0", files=files), name="files")
        assert status == "fail"
        assert message.startswith("No file holds a model (found only Text)")

    def test_a_file_over_the_limit_fails(self, model, settings):
        version = make_version(model, "1.0.0", files={"big.bin": b"x" * 100})
        settings.MAX_UPLOAD_SIZE = 50

        status, message = verdict(version, name="files")
        assert status == "fail" and "big.bin" in message


def test_no_license_fails(model):
    RegisteredModel.objects.filter(pk=model.pk).update(license="")
    version = make_version(RegisteredModel.objects.get(pk=model.pk), "1.0.0", files={"a.bin": b"a"})

    assert verdict(version, name="license")[0] == "fail"


class TestModelCard:
    @pytest.mark.parametrize(
        ("card", "status", "words"),
        [
            ("", "fail", "empty"),
            ("   \n\n  ", "fail", "empty"),
            ("# My model\n\nTODO: describe your model.\n\n## Intended use\n\nTBD", "fail", "placeholder"),
            ("Lorem ipsum dolor sit amet " * 10 + "\n## Intended use\nx", "fail", "placeholder"),
            ("# Iris\n\nA logistic regression.", "fail", "at least 30"),
            (GOOD_CARD.split("## Intended use")[0], "warn", "Intended use"),
            (GOOD_CARD, "pass", "intended-use"),
            (GOOD_CARD.replace("## Intended use", "### Usage"), "pass", "intended-use"),
        ],
        ids=["empty", "blank", "template", "lorem", "too-short", "no-intended-use", "good", "usage-heading"],
    )
    def test_the_card_verdict(self, card, status, words, owner):
        model = make_model(owner, "carded", description=card)
        version = make_version(model, "1.0.0", files={"a.bin": b"a"})

        got_status, message = verdict(version, name="model_card")

        assert got_status == status and words in message


class TestVersionOrder:
    @pytest.mark.parametrize(
        ("candidate", "status"),
        [("1.1.9", "fail"), ("1.2.0-rc.1", "fail"), ("0.9.0", "fail"), ("1.2.1", "pass"), ("2.0.0-rc.1", "pass")],
    )
    def test_the_version_must_be_greater_than_the_latest_published(self, candidate, status, model):
        # The draft was started before 1.2.0 was published (creation refuses a smaller version later).
        version = make_version(model, candidate, files={"a.bin": b"a"}, signature=SIGNATURE)
        previous = make_version(model, "1.2.0", status="published", files={"a.bin": b"a"}, signature=SIGNATURE)

        got, message = verdict(version, previous, name="version_order")

        assert got == status and "1.2.0" in message

    def test_the_first_version_passes(self, draft):
        assert verdict(draft, None, name="version_order")[0] == "pass"

    def test_submission_compares_with_the_latest_published_version_by_semver(self, model, owner):
        make_version(model, "1.9.0", status="published", files={"a.bin": b"a"})
        make_version(model, "1.10.0", status="published", files={"a.bin": b"a"})
        version = make_version(model, "1.11.0", files={"a.bin": b"a"}, signature=SIGNATURE)

        review = services.version_submit(version=version, actor=owner)

        check = next(c for c in review.checks if c["name"] == "version_order")
        assert check == {"name": "version_order", "status": "pass", "message": "1.11.0 follows 1.10.0."}


class TestSignature:
    @pytest.fixture
    def previous(self, model):
        return make_version(model, "1.0.0", status="published", files={"a.bin": b"a"}, signature=SIGNATURE)

    @pytest.mark.parametrize(
        ("inputs", "what"),
        [
            ([{**FEATURES, "type": "float64"}], "changed type"),
            ([{**FEATURES, "shape": [None, 5]}], "changed shape"),
            ([{**FEATURES, "name": "x"}], "removed"),
            ([FEATURES, {"name": "mask", "type": "bool"}], "added"),
        ],
        ids=["type", "shape", "rename", "new-required-input"],
    )
    def test_a_breaking_change_in_a_minor_bump_fails_and_passes_with_a_major_bump(self, inputs, what, model, previous):
        minor = make_version(model, "1.1.0", files={"a.bin": b"a"}, signature=with_inputs(*inputs))
        major = make_version(model, "2.0.0", files={"a.bin": b"a"}, signature=with_inputs(*inputs))

        minor_status, minor_message = verdict(minor, previous, name="signature")
        major_status, major_message = verdict(major, previous, name="signature")

        assert minor_status == "fail" and what in minor_message and "major" in minor_message
        assert major_status == "pass" and "major version bump" in major_message

    def test_a_compatible_signature_passes_in_a_patch(self, model, previous):
        version = make_version(model, "1.0.1", files={"a.bin": b"a"}, signature=SIGNATURE)

        assert verdict(version, previous, name="signature")[0] == "pass"

    def test_no_signature_warns(self, model, previous):
        version = make_version(model, "1.0.1", files={"a.bin": b"a"})

        assert verdict(version, previous, name="signature")[0] == "warn"

    def test_a_signature_where_the_previous_had_none_passes(self, model):
        previous = make_version(model, "1.0.0", status="published", files={"a.bin": b"a"})
        version = make_version(model, "1.1.0", files={"a.bin": b"a"}, signature=SIGNATURE)

        assert verdict(version, previous, name="signature")[0] == "pass"


def test_submission_stores_the_verdicts_and_counts_the_failures(owner, reviewer):
    model = make_model(owner, "sloppy", description="")
    RegisteredModel.objects.filter(pk=model.pk).update(license="")
    model = RegisteredModel.objects.get(pk=model.pk)
    make_version(model, "1.0.0", status="published", files={"a.bin": b"a"}, signature=SIGNATURE)
    version = make_version(model, "1.1.0", files={"a.bin": b"a"}, signature=with_inputs({**FEATURES, "type": "int8"}))

    review = services.version_submit(version=version, actor=owner)

    assert {c["name"]: c["status"] for c in review.checks} == {
        "files": "fail",  # "a" is text: no file holds a model
        "license": "fail",
        "model_card": "fail",
        "version_order": "pass",
        "signature": "fail",
        "scan": "pass",  # "a" is text: a data format, clean on upload
        "evaluations": "warn",
        "regression": "pass",
    }
    assert review.failing_check_count == 4
    assert [c["name"] for c in review.failing_checks] == ["files", "license", "model_card", "signature"]
