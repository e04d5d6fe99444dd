"""Load the demo catalog: real models trained now on data sets that scikit-learn ships.

Each model is saved with skops and converted to ONNX, then registered, versioned and
uploaded through the same services the pages and the API use. Running it again changes
nothing once the demo users exist.
"""

import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from skl2onnx import to_onnx
from sklearn import datasets
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from accounts_app.roles import Role, role_grant
from evaluations_app import scanning
from evaluations_app.models import Evaluation
from evaluations_app.services import test_set_create, test_set_update
from evaluations_app.tasks import run_evaluation
from models_app import services
from models_app.aliases import alias_set
from models_app.models import ScanStatus
from reviews_app.services import review_decide, version_deprecate, version_submit

# The demo walks the whole lifecycle (upload, evaluate, submit, review, publish), so it
# lives in the top app of the layers, which may call every app below it.
DEMO_USERS = [
    # username, password, roles granted; "admin" is also a superuser, for the admin site
    ("alice", "demo-alice-pass", ()),
    ("bob", "demo-bob-pass", ()),
    ("rita", "demo-rita-pass", (Role.REVIEWER,)),
    ("admin", "demo-admin-pass", (Role.STAFF,)),
]


@dataclass
class DemoVersion:
    version: str
    status: str
    changelog: str
    params: dict[str, Any]


@dataclass
class DemoModel:
    owner: str
    name: str
    task: str
    license: str
    summary: str
    tags: list[str]
    dataset: str
    build: Callable[[dict[str, Any]], Any]
    versions: list[DemoVersion]
    visibility: str = "public"
    downloads: int = 0  # downloads of the latest published version, recorded like real ones
    extra_card: str = ""
    regression: bool = False
    outputs: list[dict] = field(default_factory=list)
    # Alias changes, in order: (alias, version, who: "owner" or "reviewer", protected or None to keep).
    alias_moves: list[tuple[str, str, str, bool | None]] = field(default_factory=list)


def _card(model: DemoModel, n_features: int, classes: list[str] | None) -> str:
    target = "a number" if model.regression else f"one of {len(classes or [])} classes"
    return f"""# {model.name}

{model.summary}

## Intended use

A demonstration model for Model Registry, trained on scikit-learn's bundled
`{model.dataset}` data set. It takes {n_features} numeric features and predicts {target}.
Use it to try the catalog, the API and the download path; do not use it for real decisions.

## Training data

The `{model.dataset}` data set as shipped with scikit-learn, split 80/20 with a fixed seed;
the held-out 20% was not seen in training.

## Limitations

Small data, no calibration study, no fairness analysis.
{model.extra_card}
## Files

- `model.skops`: the scikit-learn estimator, saved with skops (safe to load with `skops.io.load`).
- `model.onnx`: the same estimator converted with skl2onnx, for onnxruntime.
"""


def _estimators():
    return {
        "logreg": lambda p: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, C=p["C"])),
        "forest": lambda p: RandomForestClassifier(
            n_estimators=p["n_estimators"], max_depth=p["max_depth"], random_state=0
        ),
        "svc": lambda p: make_pipeline(StandardScaler(), SVC(C=p["C"], random_state=0)),
        "ridge": lambda p: Ridge(alpha=p["alpha"]),
        "mlp": lambda p: make_pipeline(
            StandardScaler(), MLPClassifier(hidden_layer_sizes=tuple(p["hidden"]), max_iter=150, random_state=0)
        ),
        "isoforest": lambda p: IsolationForest(n_estimators=p["n_estimators"], max_samples=64, random_state=0),
    }


def _demo_models() -> list[DemoModel]:
    est = _estimators()
    return [
        DemoModel(
            owner="alice",
            name="iris-classifier",
            downloads=42,
            task="tabular-classification",
            license="Apache-2.0",
            summary="Logistic regression that tells the three iris species apart from sepal and petal sizes.",
            tags=["iris", "tabular", "baseline"],
            dataset="iris",
            build=est["logreg"],
            versions=[
                DemoVersion("1.0.0", "published", "First release.", {"C": 0.1}),
                DemoVersion("1.1.0", "published", "Less regularisation: C from 0.1 to 1.0.", {"C": 1.0}),
                DemoVersion("1.2.0-rc.1", "in_review", "Release candidate with C=10.", {"C": 10.0}),
            ],
            # staging tried 1.0.0, then 1.1.0; production followed, and rita protected it.
            alias_moves=[
                ("staging", "1.0.0", "owner", None),
                ("production", "1.0.0", "owner", None),
                ("staging", "1.1.0", "owner", None),
                ("production", "1.1.0", "reviewer", True),
            ],
        ),
        DemoModel(
            owner="alice",
            name="wine-forest",
            downloads=17,
            task="tabular-classification",
            license="MIT",
            summary="Random forest that names the cultivar of an Italian wine from 13 chemical measurements.",
            tags=["wine", "tabular", "random-forest"],
            dataset="wine",
            build=est["forest"],
            versions=[
                DemoVersion(
                    "1.0.0", "published", "First release: 50 shallow trees.", {"n_estimators": 50, "max_depth": 3}
                ),
                DemoVersion("2.0.0", "published", "200 deeper trees.", {"n_estimators": 200, "max_depth": 6}),
            ],
        ),
        DemoModel(
            owner="bob",
            name="breast-cancer-svm",
            downloads=9,
            task="tabular-classification",
            license="BSD-3-Clause",
            summary="RBF support vector machine that flags malignant tumours in the Wisconsin breast cancer data.",
            tags=["medical", "tabular", "svm"],
            dataset="breast_cancer",
            build=est["svc"],
            versions=[
                DemoVersion("0.9.0", "deprecated", "Early preview; superseded by 1.0.0.", {"C": 0.5}),
                DemoVersion("1.0.0", "published", "Tuned C on a validation split.", {"C": 2.0}),
                DemoVersion("1.0.1", "draft", "Work in progress: retrain with C=3.", {"C": 3.0}),
            ],
        ),
        DemoModel(
            owner="bob",
            name="diabetes-ridge",
            downloads=25,
            task="tabular-regression",
            license="CC-BY-4.0",
            summary="Ridge regression that predicts disease progression one year after baseline.",
            tags=["medical", "tabular", "regression"],
            dataset="diabetes",
            build=est["ridge"],
            regression=True,
            versions=[
                DemoVersion("0.1.0", "published", "Baseline with strong regularisation.", {"alpha": 10.0}),
                DemoVersion("0.2.0", "published", "alpha=1.0.", {"alpha": 1.0}),
                DemoVersion("1.0.0", "published", "Stable API; alpha=0.1.", {"alpha": 0.1}),
            ],
        ),
        DemoModel(
            owner="alice",
            name="digits-mlp",
            downloads=33,
            task="image-classification",
            license="MIT",
            summary="Small multi-layer perceptron that reads handwritten digits from 8x8 pixel images.",
            tags=["digits", "vision", "mlp"],
            dataset="digits",
            build=est["mlp"],
            versions=[
                DemoVersion("1.0.0", "published", "One hidden layer of 32 units.", {"hidden": [32]}),
                DemoVersion("1.1.0", "published", "Two hidden layers (64, 32).", {"hidden": [64, 32]}),
            ],
        ),
        DemoModel(
            owner="bob",
            name="tumour-outliers",
            downloads=4,
            task="anomaly-detection",
            license="Apache-2.0",
            summary="Isolation forest that scores unusual tumour measurements for a second look.",
            tags=["medical", "anomaly", "tabular"],
            dataset="breast_cancer",
            build=est["isoforest"],
            versions=[
                DemoVersion("1.0.0", "published", "20 trees.", {"n_estimators": 20}),
                DemoVersion("1.1.0", "in_review", "40 trees.", {"n_estimators": 40}),
            ],
        ),
        DemoModel(
            owner="bob",
            name="wine-experiments",
            downloads=0,
            task="tabular-classification",
            license="LicenseRef-Proprietary",
            summary="Bob's private experiments on the wine data; visible only to bob and staff.",
            tags=["wine", "experiment"],
            dataset="wine",
            build=est["forest"],
            visibility="private",
            versions=[
                DemoVersion("0.1.0", "published", "Private baseline.", {"n_estimators": 10, "max_depth": 2}),
            ],
        ),
    ]


def _load_dataset(name: str):
    return getattr(datasets, f"load_{name}")(return_X_y=False)


def _train_and_export(model: DemoModel, version: DemoVersion, data) -> tuple[dict[str, bytes], dict, dict]:
    X = data.data.astype(np.float32)
    y = data.target
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    estimator = model.build(version.params)
    estimator.fit(X_train, y_train) if model.task != "anomaly-detection" else estimator.fit(X_train)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.skops"
        sio.dump(estimator, path)
        skops_bytes = path.read_bytes()
    options = (
        {"zipmap": False} if model.task == "tabular-classification" or model.task == "image-classification" else None
    )
    target_opset = {"": 17, "ai.onnx.ml": 3}
    onnx_model = to_onnx(estimator, X_train[:1], options=options, target_opset=target_opset)
    onnx_bytes = onnx_model.SerializeToString()
    if model.regression:
        predictions = estimator.predict(X_test)
        metrics = {
            "mae": round(float(mean_absolute_error(y_test, predictions)), 4),
            "r2": round(float(r2_score(y_test, predictions)), 4),
        }
    elif model.task == "anomaly-detection":
        metrics = {"outlier_fraction": round(float((estimator.predict(X_test) == -1).mean()), 4)}
    else:
        metrics = {"accuracy": round(float(accuracy_score(y_test, estimator.predict(X_test))), 4)}
    n_features = X.shape[1]
    output = {
        "name": "label" if not model.regression else "variable",
        "type": "int64" if not model.regression else "float32",
        "shape": [None],
    }
    if model.task in ("tabular-classification", "image-classification"):
        # The classes are 0..k-1, so a predicted index names target_names[index].
        output["classes"] = [str(name) for name in data.target_names]
    signature = {"inputs": [{"name": "X", "type": "float32", "shape": [None, n_features]}], "outputs": [output]}
    readme = _card(
        model, n_features, [str(c) for c in getattr(data, "target_names", [])] if not model.regression else None
    )
    files = {"model.skops": skops_bytes, "model.onnx": onnx_bytes, "README.md": readme.encode()}
    return files, metrics, signature


class Command(BaseCommand):
    # Small data sets: convergence warnings and scikit-learn deprecations are noise here.
    warnings_filter = "ignore"

    help = "Load the demo users and models (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even if the demo users exist.")

    def handle(self, *args, force: bool = False, **options):
        User = get_user_model()
        if not force and User.objects.filter(username="alice").exists():
            self.stdout.write("Demo data already loaded.")
            return
        warnings.simplefilter(self.warnings_filter)
        users = self._users()
        test_sets = self._benchmarks(users["admin"])
        for model in _demo_models():
            self._load_model(model, users, test_sets)
        self._run_queued_evaluations()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    def _benchmarks(self, staff) -> dict[str, Any]:
        """Held-out 20% splits of the bundled data sets (the same split the models held
        out), uploaded as CSV through the same service as any test set, marked benchmarks."""
        test_sets = {}
        for dataset in ("iris", "wine", "breast_cancer", "diabetes", "digits"):
            data = _load_dataset(dataset)
            _, X_test, _, y_test = train_test_split(
                data.data.astype("float32"), data.target, test_size=0.2, random_state=42
            )
            frame = pd.DataFrame(X_test, columns=[str(name) for name in data.feature_names])
            frame["target"] = y_test
            name = f"{dataset.replace('_', '-')}-holdout"
            test_set = test_set_create(
                owner=staff,
                name=name,
                task="regression" if dataset == "diabetes" else "classification",
                target_column="target",
                description=f"The held-out 20% of scikit-learn's `{dataset}` data set (random_state=42).",
                uploaded_file=SimpleUploadedFile(f"{name}.csv", frame.to_csv(index=False).encode()),
            )
            test_sets[dataset] = test_set_update(test_set=test_set, actor=staff, benchmark=True)
            self.stdout.write(f"  benchmark {test_set.full_name}: {test_set.rows} rows")
        return test_sets

    def _run_queued_evaluations(self) -> None:
        """Run the evaluations the submissions queued, here and now (the worker may not be
        up yet), through the task's own body: claim, sandbox, metrics."""
        queued = list(Evaluation.objects.filter(status="queued").values_list("pk", flat=True))
        for evaluation_id in queued:
            run_evaluation(evaluation_id)
        done = Evaluation.objects.filter(pk__in=queued, status="succeeded").count()
        self.stdout.write(f"  evaluations: {done} of {len(queued)} succeeded")

    def _users(self) -> dict[str, Any]:
        User = get_user_model()
        users = {}
        for username, password, roles in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.com", "is_superuser": username == "admin"},
            )
            if created:
                user.set_password(password)
                user.save()
            for role in roles:
                role_grant(user=user, role=role, actor=None)
            users[username] = user
        return users

    @staticmethod
    def _move_to(version, spec: DemoVersion, *, owner, reviewer) -> None:
        """Walk the version through the real lifecycle to its demo status."""
        if spec.status == "draft":
            return
        review = version_submit(version=version, actor=owner, note=spec.changelog)
        if spec.status == "in_review":
            return
        review_decide(review=review, actor=reviewer, decision="approve", comment="Looks good.")
        if spec.status == "deprecated":
            version_deprecate(
                version=version,
                actor=owner,
                reason="Superseded by a better-calibrated release; use the latest version.",
            )

    @transaction.atomic
    def _load_model(self, demo: DemoModel, users: dict[str, Any], test_sets: dict[str, Any]) -> None:
        data = _load_dataset(demo.dataset)
        owner = users[demo.owner]
        classes = None if demo.regression else [str(c) for c in getattr(data, "target_names", [])]
        registered = services.model_create(
            owner=owner,
            name=demo.name,
            task=demo.task,
            framework="scikit-learn",
            license=demo.license,
            summary=demo.summary,
            description=_card(demo, data.data.shape[1], classes),
            tags=demo.tags,
            visibility=demo.visibility,
        )
        if demo.task != "anomaly-detection":
            registered.evaluate_on.add(test_sets[demo.dataset])
        for spec in demo.versions:
            files, metrics, signature = _train_and_export(demo, spec, data)
            version = services.version_create(
                model=registered,
                version=spec.version,
                created_by=owner,
                changelog=spec.changelog,
                params=spec.params,
                reported_metrics=metrics,
                signature=signature,
            )
            for path, content in files.items():
                services.file_upload(
                    version=version, uploaded_file=SimpleUploadedFile(path, content), actor=owner, path=path
                )
            # Scanned here, as the worker scans every upload: the worker may not be up yet.
            for file_id in version.files.filter(scan_status=ScanStatus.PENDING).values_list("pk", flat=True):
                scanning.file_scan(file_id=file_id)
            self._move_to(version, spec, owner=owner, reviewer=users["rita"])
        for alias, label, who, protected in demo.alias_moves:
            alias_set(
                model=registered, name=alias, version=registered.versions.get(version=label),
                actor=owner if who == "owner" else users["rita"], protected=protected,
            )  # fmt: skip
        latest = registered.versions.public().semver_order().first()
        if latest is not None:
            model_file = latest.files.get(path="model.onnx")
            for _ in range(demo.downloads):
                services.file_record_download(model_file=model_file)
        self.stdout.write(f"  {registered.full_name}: {len(demo.versions)} versions")
