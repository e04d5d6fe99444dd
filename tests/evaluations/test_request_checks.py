"""An evaluation that cannot fit is refused when it is asked for, not failed later."""

import pytest

from evaluations_app import services as ev
from evaluations_app.models import Evaluation
from registry_site.errors import DomainError
from tests.factories import make_model, make_version

from . import crafted
from .conftest import iris_test_set

FIVE_INPUTS = {"inputs": [{"name": "X", "type": "float32", "shape": [None, 5]}], "outputs": []}


def test_a_signature_that_does_not_fit_the_test_set_is_refused_at_once(owner, iris_data):
    test_set = iris_test_set(owner, iris_data)
    version = make_version(make_model(owner), files={"model.onnx": crafted.argmax_model()}, signature=FIVE_INPUTS)
    with pytest.raises(DomainError) as refused:
        ev.evaluation_request(version=version, test_set=test_set, actor=owner)
    assert refused.value.code == "signature_mismatch"
    assert "declares 5 input features" in refused.value.detail and "has 4 feature columns" in refused.value.detail
    assert not Evaluation.objects.exists()
