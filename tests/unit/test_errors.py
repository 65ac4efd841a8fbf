"""The exception hierarchy: every error survives pickling (Airflow and child processes carry them),
corrupt objects and unknown engines are named, and each failure kind has its ``ExecutionError``."""

from __future__ import annotations

import inspect
import pickle

import pytest

from nbreports import errors
from nbreports.engines import get_engine
from nbreports.runs.failures import execution_error
from nbreports.runs.states import FailureKind


def example(cls: type[errors.NbreportsError]) -> errors.NbreportsError:
    """An instance of ``cls`` with every attribute its constructor takes set to a distinctive value."""
    if issubclass(cls, errors.SpecError):
        return cls("notebooks/sales/report.yaml", "cache.ttl", "expected a duration such as 1d")
    if issubclass(cls, errors.ParameterError):
        return cls("sales", ["unknown parameter 'm'", "n: expected integer"])
    if issubclass(cls, errors.ExecutionError):
        return cls("report sales run r1 failed: boom", cell_index=4, output_uri="s3://reports/runs/sales/r1/out")
    if issubclass(cls, errors.AccessDenied):
        return cls("carol", "hr_headcount", "view")
    return cls(f"a {cls.__name__} happened")


ERROR_CLASSES = sorted(
    (
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.NbreportsError) and cls.__module__ == errors.__name__
    ),
    key=lambda cls: cls.__name__,
)


def test_the_hierarchy_has_the_documented_classes():
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"SpecError", "ParameterError", "ProfileError", "ExecutionError", "CellExecutionError"} <= names
    assert {"KernelDiedError", "OutOfMemoryError", "RunTimeoutError", "ImageError", "CorruptObjectError"} <= names
    assert {"UnknownEngineError", "UnsafePathError", "StoreError", "DatabaseError", "BadQuery"} <= names


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_survives_a_pickle_round_trip_with_its_message_and_attributes(cls):
    error = example(cls)
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, the round trip under test
    assert type(back) is cls
    assert str(back) == str(error)
    assert back.args == error.args
    assert vars(back) == vars(error)
    assert isinstance(back, errors.NbreportsError)


def test_pickled_errors_keep_the_fields_callers_read():
    spec = pickle.loads(pickle.dumps(example(errors.SpecError)))  # noqa: S301
    assert (spec.file, spec.field) == ("notebooks/sales/report.yaml", "cache.ttl")
    assert str(spec) == "notebooks/sales/report.yaml: cache.ttl: expected a duration such as 1d"
    profile = pickle.loads(pickle.dumps(example(errors.ProfileError)))  # noqa: S301
    assert profile.report == "sales"
    assert profile.problems == ["unknown parameter 'm'", "n: expected integer"]
    oom = pickle.loads(pickle.dumps(example(errors.OutOfMemoryError)))  # noqa: S301
    assert (oom.cell_index, oom.output_uri) == (4, "s3://reports/runs/sales/r1/out")
    assert isinstance(oom, errors.KernelDiedError)


@pytest.mark.parametrize("data", [b"not json", b'{"half": ', b"\xff\xfe\x00"], ids=["text", "truncated", "binary"])
def test_reading_json_from_an_object_that_is_not_json_is_a_corrupt_object_error(store, data):
    store.write_bytes("runs/sales/r1/run.json", data)
    with pytest.raises(errors.CorruptObjectError, match=r"runs/sales/r1/run\.json is not valid JSON"):
        store.read_json("runs/sales/r1/run.json")


def test_an_unknown_engine_is_refused_naming_the_known_ones():
    with pytest.raises(errors.UnknownEngineError, match="unknown executor 'nope'") as info:
        get_engine("nope")
    assert "known: kubernetes, local, podman" in str(info.value)
    assert isinstance(info.value, errors.ConfigError)


# Written out here, not read from runs.failures, so a changed mapping shows up as a failing test.
EXPECTED_ERROR_OF_KIND = {
    FailureKind.CELL_ERROR: errors.CellExecutionError,
    FailureKind.CELL_TIMEOUT: errors.RunTimeoutError,
    FailureKind.RUN_TIMEOUT: errors.RunTimeoutError,
    FailureKind.KERNEL_DIED: errors.KernelDiedError,
    FailureKind.OUT_OF_MEMORY: errors.OutOfMemoryError,
    FailureKind.IMAGE_MISSING: errors.ImageError,
    FailureKind.ENGINE_ERROR: errors.ExecutionError,
    FailureKind.STORE_ERROR: errors.ExecutionError,
    FailureKind.LOST: errors.RunLostError,
}


def test_every_failure_kind_has_an_expected_error():
    assert set(EXPECTED_ERROR_OF_KIND) == set(FailureKind)


@pytest.mark.parametrize("kind", list(FailureKind), ids=str)
def test_each_failure_kind_becomes_its_execution_error(kind):
    error = execution_error("sales", "r1", "boom", kind.value, failed_cell=3, output_uri="file:///store/out.ipynb")
    assert type(error) is EXPECTED_ERROR_OF_KIND[kind]
    assert str(error) == "report sales run r1 failed: boom"
    assert (error.cell_index, error.output_uri) == (3, "file:///store/out.ipynb")


@pytest.mark.parametrize("kind", [None, "", "a_kind_from_a_newer_engine"])
def test_a_missing_or_unknown_failure_kind_is_the_base_execution_error(kind):
    error = execution_error("sales", "r1", "boom", kind)
    assert type(error) is errors.ExecutionError
    assert error.cell_index is None
    assert error.output_uri is None
