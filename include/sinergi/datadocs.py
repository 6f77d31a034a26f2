"""Great Expectations Data Docs for auditors: every judged file version, as static HTML.

District tasks save their (sanitised: no NIK / No. KK values) validation results into a GX
validation-results store under ``<reports>/gx/validations``; ``publish_reports`` renders the
site ``<reports>/data-docs/index.html`` from that store once per run. Writing results from 38
processes is safe (one file per key); only the site build is single-writer.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from sinergi.validation import _quiet_gx_logging

SITE = "sinergi"


@cache
def _context(reports_dir: Path):
    _quiet_gx_logging()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    def memory(kind: str) -> dict:
        return {"class_name": kind, "store_backend": {"class_name": "InMemoryStoreBackend"}}

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        stores={
            "expectations_store": memory("ExpectationsStore"),
            "validation_definition_store": memory("ValidationDefinitionStore"),
            "checkpoint_store": memory("CheckpointStore"),
            "validation_results_store": {
                "class_name": "ValidationResultsStore",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(reports_dir / "gx" / "validations"),
                },
            },
        },
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites={
            SITE: {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(reports_dir / "data-docs"),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def save_results(
    reports_dir: Path, run_name: str, run_time: datetime, file_name: str, results: list[dict]
) -> int:
    """Store sanitised suite results of one file version (one per chunk / suite)."""
    if not results:
        return 0
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = _context(reports_dir)
    schema = ExpectationSuiteValidationResultSchema()
    for number, result in enumerate(results, start=1):
        suite = result.get("suite_name") or "sinergi"
        key = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(suite),
            RunIdentifier(run_name=run_name, run_time=run_time),
            f"{file_name}-part{number}",
        )
        context.validation_results_store.set(key, schema.load(result))
    return len(results)


def build_site(reports_dir: Path) -> Path:
    """Render the Data Docs site; returns the path of its index page."""
    _context(reports_dir).build_data_docs(site_names=[SITE])
    return reports_dir / "data-docs" / "index.html"
