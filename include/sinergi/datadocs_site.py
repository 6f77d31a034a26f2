"""Sinergi's classes for GX's Data Docs site builder: a build does not grow with the history.

``datadocs._context`` names these classes in the site's configuration (GX instantiates a
site's index builder and page views from ``module_name`` / ``class_name``). GX 1.24's own
classes re-read what earlier months left, at every build:

* :class:`KeptSummaryIndexBuilder` — the index page lists every stored result with its
  success and asset name; GX's ``DefaultSiteIndexBuilder`` reads and deserialises *every*
  stored result for it (~1-2 ms each, ~300 results a month of 38 districts) at every build,
  so December's index read twelve months of results. A result's summary is kept in
  ``<reports>/gx/index-summaries.json`` with the size and modification time of its stored
  file: a result written or rewritten since (a new version, a verdict ``reconcile`` added to
  the header) is read again, the others are not. The summary holds what the index shows (the
  asset name, the scrubbed file-level header ``datadocs._file_meta`` writes), never a value.
* :class:`KeptTemplatesPageView` — GX's Jinja environment checks every template file's
  modification time at every lookup (``auto_reload``), ~100 lookups a page; the templates are
  the installed package's files, which do not change while a site is built.

``_add_validations_to_index_links`` is GX 1.24's loop (filter by run name, newest first,
the results limit) with the read replaced: it calls GX's own
``add_resource_info_to_index_links_dict`` with the values GX's loop passes, and a result it
reads is read through GX's ``get_validation_result`` with GX's ``_resolve_asset_name``, so
the index page is the page GX renders. ``tests/test_datadocs_site.py`` compares the two
sites page by page: a GX upgrade that changes the loop shows there.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from sinergi.gx_import import gx  # noqa: F401 - first: GX without what no suite uses

# isort: split
from great_expectations.render.renderer.site_builder import (
    FALSEY_YAML_STRINGS,
    DefaultSiteIndexBuilder,
    _resolve_asset_name,
    resource_key_passes_run_name_filter,
)
from great_expectations.render.view import DefaultJinjaPageView

from sinergi.datadocs import read_json_dict, result_file
from sinergi.scrub import lettered

log = logging.getLogger(__name__)

_FIELDS = ("validation_success", "asset_name", "batch_kwargs", "batch_spec")


class KeptTemplatesPageView(DefaultJinjaPageView):
    """GX's page view, without a ``stat`` of the template file at every template lookup."""

    # GX hands a class only the runtime arguments its ``__init__`` names (``getfullargspec``)
    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.auto_reload = False


class KeptSummaryIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder, reading only the results stored or rewritten since its last build.

    ``summaries_file``: where the summaries are kept; ``reports_dir``: the reports folder whose
    ``gx/validations`` the results are stored in (each summary is checked against its file's
    size and modification time).
    """

    # the parameters of GX's own builder, named: GX hands a class only the runtime arguments
    # its ``__init__`` names (``instantiate_class_from_config`` reads its argspec)
    def __init__(  # noqa: PLR0913 - GX's signature
        self,
        name,
        site_name,
        data_context,
        target_store,
        site_section_builders_config,
        summaries_file: str,
        reports_dir: str,
        custom_styles_directory=None,
        custom_views_directory=None,
        show_how_to_buttons=True,
        validation_results_limit=None,
        renderer=None,
        view=None,
        data_context_id=None,
        source_stores=None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            site_name=site_name,
            data_context=data_context,
            target_store=target_store,
            site_section_builders_config=site_section_builders_config,
            custom_styles_directory=custom_styles_directory,
            custom_views_directory=custom_views_directory,
            show_how_to_buttons=show_how_to_buttons,
            validation_results_limit=validation_results_limit,
            renderer=renderer,
            view=view,
            data_context_id=data_context_id,
            source_stores=source_stores,
            **kwargs,
        )
        self.summaries_file = Path(summaries_file)
        self.reports_dir = reports_dir
        self.store_name = (self.source_stores or {}).get("validations")

    def _add_validations_to_index_links(self, index_links_dict, site_keys) -> None:
        validations = self.site_section_builders_config.get("validations", "None")
        if not validations or validations in FALSEY_YAML_STRINGS:
            return
        name_filter = self.site_section_builders_config["validations"]["run_name_filter"]
        keys = sorted(
            (k for k in site_keys if resource_key_passes_run_name_filter(k, name_filter)),
            key=lambda k: k.run_id.run_time,
            reverse=True,
        )
        if self.validation_results_limit:
            keys = keys[: self.validation_results_limit]
        kept = read_json_dict(self.summaries_file)
        summaries: dict[str, dict] = {}
        read = 0
        for key in keys:
            name = "/".join(key.to_tuple())
            stamp = self._stamp(key)
            summary = kept.get(name)
            if summary is None or stamp is None or summary.get("stamp") != stamp:
                summary = self._summary(key)
                read += 1
                if summary is None:
                    continue
                summary["stamp"] = stamp
            summaries[name] = summary
            self.add_resource_info_to_index_links_dict(
                index_links_dict=index_links_dict,
                expectation_suite_name=key.expectation_suite_identifier.name,
                section_name="validations",
                batch_identifier=key.batch_identifier,
                run_id=key.run_id,
                run_time=key.run_id.run_time,
                run_name=key.run_id.run_name,
                **{field: summary[field] for field in _FIELDS},
            )
        _write_kept(self.summaries_file, summaries)
        log.info("Data Docs index: %d result(s), %d read (the rest kept)", len(keys), read)

    def _stamp(self, key) -> str | None:
        """The size and modification time of the key's stored file, None if it has none.

        Spelled in hex with letters for digits (``scrub.lettered``): a time in nanoseconds is
        a run of 19 digits, which reads as a NIK to an auditor searching the reports."""
        path = result_file(
            Path(self.reports_dir),
            key.expectation_suite_identifier.name,
            key.run_id.run_name,
            key.run_id.run_time,
            key.batch_identifier,
        )
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            return None
        return lettered(f"{info.st_size:x}-{info.st_mtime_ns:x}")

    def _summary(self, key) -> dict | None:
        """What the index shows about a result, read from the store as GX's builder reads it;
        None (logged, skipped) when it cannot be read, as GX does."""
        from great_expectations.core.expectation_validation_result import (
            ExpectationSuiteValidationResult,
        )

        problem = f"Validation result not found: {key.to_tuple()!s:s} - skipping"
        try:
            validation = self.data_context.get_validation_result(
                batch_identifier=key.batch_identifier,
                expectation_suite_name=key.expectation_suite_identifier.name,
                run_id=key.run_id,
                validation_results_store_name=self.store_name,
            )
        except Exception:  # noqa: BLE001 - GX's own builder skips an unreadable result too
            log.warning(problem)
            return None
        if not isinstance(validation, ExpectationSuiteValidationResult):
            log.warning(problem)
            return None
        return {
            "validation_success": validation.success,
            "asset_name": _resolve_asset_name(validation),
            "batch_kwargs": validation.meta.get("batch_kwargs", {}),
            "batch_spec": validation.meta.get("batch_spec", {}),
        }


def _write_kept(path: Path, summaries: dict[str, dict]) -> None:
    """Written whole (only the keys of this build: a removed result's summary goes too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(summaries, sort_keys=True, default=str), encoding="utf-8")
    temporary.replace(path)
