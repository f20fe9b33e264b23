"""Data sources and what specc knows about the bundled data sets without loading them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import Field, field_validator

from specc.callable import Callable_, Registry

DATA = Registry("data source")

Split = Annotated[float, Field(ge=0, lt=1)]
Path_ = Annotated[str, Field(min_length=1, max_length=4096)]


@dataclass(frozen=True)
class DatasetInfo:
    """The static facts of a bundled data set."""

    samples: int
    features: int
    classes: int | None  # None: a regression target
    loader: str  # the scikit-learn function


BUNDLED: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(1797, 64, 10, "load_digits"),
    "iris": DatasetInfo(150, 4, 3, "load_iris"),
    "wine": DatasetInfo(178, 13, 3, "load_wine"),
    "breast_cancer": DatasetInfo(569, 30, 2, "load_breast_cancer"),
    "diabetes": DatasetInfo(442, 10, None, "load_diabetes"),
}


class DataSource(Callable_):
    """Where the training examples come from; the last `validation_split` of a seeded shuffle validates."""

    validation_split: Split = 0.2
    # Parameters holding file paths, relative to the spec file.
    paths: ClassVar[tuple[str, ...]] = ()

    @property
    def info(self) -> DatasetInfo | None:
        """Static facts when the source is a bundled data set."""
        return None


class _Tabular(DataSource):
    """Feature vectors; `standardize` rescales each feature by the training split's mean and std."""

    standardize: bool = True


class _Bundled(_Tabular):
    """A small data set shipped inside scikit-learn, so it works offline."""

    @property
    def info(self) -> DatasetInfo:
        return BUNDLED[type(self).call_name]


@DATA.add("digits")
class Digits(_Bundled):
    """8x8 images of handwritten digits: 1,797 examples, 64 features (0-16), 10 classes."""


@DATA.add("iris")
class Iris(_Bundled):
    """Iris flowers: 150 examples, 4 features, 3 classes (sorted by class in the file)."""


@DATA.add("wine")
class Wine(_Bundled):
    """Wine cultivars: 178 examples, 13 features, 3 classes."""


@DATA.add("breast_cancer")
class BreastCancer(_Bundled):
    """Breast cancer diagnosis: 569 examples, 30 features, 2 classes."""


@DATA.add("diabetes")
class Diabetes(_Bundled):
    """Diabetes progression: 442 examples, 10 features, a real-valued target (regression)."""


@DATA.add("synthetic")
class Synthetic(DataSource):
    """Random inputs shaped for the model, with labels that fit the loss (for smoke tests)."""

    positional = ("samples",)

    samples: Annotated[int, Field(ge=2, le=10_000_000)] = 256
    classes: Annotated[int, Field(ge=2, le=100_000)] | None = None


@DATA.add("csv")
class Csv(_Tabular):
    """A CSV file with a header row; `target` names the label column, the others are features."""

    positional = ("path",)
    paths = ("path",)

    path: Path_
    target: Annotated[str, Field(min_length=1)]


@DATA.add("npz")
class Npz(_Tabular):
    """A NumPy .npz archive holding arrays `x` (examples) and `y` (labels or targets)."""

    positional = ("path",)
    paths = ("path",)

    path: Path_


@DATA.add("image_folder")
class ImageFolder(DataSource):
    """Images in one sub-folder per class (`dir/cat/1.jpg`), resized to `image_size`."""

    positional = ("path",)
    paths = ("path",)

    path: Path_
    image_size: tuple[Annotated[int, Field(ge=1, le=16384)], Annotated[int, Field(ge=1, le=16384)]] | None = (
        None
    )

    @field_validator("image_size", mode="before")
    @classmethod
    def _square(cls, value: object) -> object:
        return (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
