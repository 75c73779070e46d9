"""Reporting what a load could not fetch: metadata in, one readable line out."""

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from dagster_project.build import root_cause
from dagster_project.defs.quality.fetch_failures import describe, failures_of


def test_failures_are_read_back_from_materialization_metadata():
    metadata = {"failures": dg.MetadataValue.json({"GONE": "possibly delisted"})}
    assert failures_of(metadata) == {"GONE": "possibly delisted"}
    assert failures_of({}) == {}


def test_the_description_lists_keys_with_reasons_and_counts_the_rest():
    assert describe({}, "ticker") == "every ticker was fetched"
    many = {f"T{i:02d}": "delisted" for i in range(12)}
    text = describe(many, "ticker")
    assert text.startswith("12 ticker(s) not fetched") and "T00: delisted" in text
    assert text.endswith("(and 2 more)")


def test_a_failed_step_reports_the_users_own_error():
    error = SerializableErrorInfo(
        message="Error occurred while executing op",
        stack=[],
        cls_name="DagsterExecutionStepExecutionError",
        cause=SerializableErrorInfo(
            message="SourceError: live: no prices at all\n", stack=[], cls_name="SourceError"
        ),
    )
    assert root_cause(error) == "SourceError: live: no prices at all"
    assert root_cause(None) == "unknown error"


def test_a_failed_step_reports_the_plain_words_not_the_technical_cause():
    duckdb_error = SerializableErrorInfo(
        message="IOException: Could not set lock on file\n", stack=[], cls_name="IOException"
    )
    ours = SerializableErrorInfo(
        message="WarehouseLockedError: w.duckdb is locked by another process\n",
        stack=[],
        cls_name="WarehouseLockedError",
        cause=duckdb_error,
    )
    not_retried = SerializableErrorInfo(
        message="Failure: w.duckdb is locked", stack=[], cls_name="Failure", cause=ours
    )
    step = SerializableErrorInfo(
        message="Error occurred while executing op",
        stack=[],
        cls_name="DagsterExecutionStepExecutionError",
        cause=not_retried,
    )
    assert root_cause(step) == "WarehouseLockedError: w.duckdb is locked by another process"
