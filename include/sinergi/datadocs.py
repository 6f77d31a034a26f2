"""Great Expectations Data Docs for auditors: every file version, as static HTML that works offline.

District tasks save their sanitised validation results (no NIK / No. KK, values escaped; see
``validation.sanitise``) into a GX validation-results store under ``<reports>/gx/validations``;
``publish_reports`` renders the site ``<reports>/data-docs/index.html`` from that store once per
run. Writing results from 38 processes is safe (one file per key); only the site build is
single-writer.

At build time the store is reconciled with ``audit.file_versions``: a version rejected before
validation (unreadable, missing columns, ambiguous pair, empty) or whose task died between the
warehouse commit and its Data Docs gets a minimal result stating its verdict, and every result
carries its district, dataset, period, version, file name and file-level verdict.

The site's index builder and page view are Sinergi's subclasses of GX's
(``sinergi.datadocs_site``): the index keeps what it shows about each result, so a month's
build reads that month's results, not every month's.

GX's pages load jQuery, Bootstrap, bootstrap-table, Font Awesome and Vega from public CDNs, so
on an intranet the index is empty. After GX renders, ``finalise_site`` copies the vendored
copies of exactly those files (``datadocs_static/vendor``, from the npm packages pinned by
``datadocs_static/package-lock.json``) into the site, points every page at them by relative
path, and moves inline scripts and ``onclick`` handlers into files, so the reports web server
can forbid inline scripts (docker/reports-web/default.conf).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import shutil
from collections import defaultdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sinergi.scrub import lettered, scrub_identifiers

if TYPE_CHECKING:
    from sinergi.config import Settings

log = logging.getLogger(__name__)

SITE = "sinergi"
STATIC = Path(__file__).parent / "datadocs_static"
VENDOR = "static/vendor"  # where the vendored assets go inside the site
VERSIONS_PAGE = "versions.html"

# CDN address in GX 1.24's templates -> the vendored file (path inside its npm package).
CDN_FILES = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free/css/all.min.css"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js/dist/umd/popper.min.js"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/dist/js/bootstrap.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    # GX asks for 1.19.0's stylesheet (and the unminified one on result pages): same rules.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
}
# GX's logo comes from S3; the same images ship with GX in the site's static/images.
_GX_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"

_RUN_NAME = re.compile(
    r"^(?P<period>\d{4}-\d{2})-(?P<district>\d{4})-(?P<dataset>[a-z_]+)-v(?P<version>\d+)$"
)
_RESOURCE = re.compile(
    r"<(?P<tag>script|link|img)\b(?P<attrs>[^>]*?)\b(?P<attr>src|href)=\"(?P<url>https?://[^\"]*)\""
    r"(?P<rest>[^>]*)>(?:</script>)?",
    re.IGNORECASE,
)
# The dark-mode logo in GX's stylesheet (inlined into every page) is a remote background.
_CSS_REMOTE = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", re.IGNORECASE)
_STATIC_REF = re.compile(r"(?P<attr>src|href)=\"(?:\./|(?:\.\./)+)?static/")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_ONCLICK = re.compile(r"onclick=\"(?P<fn>[A-Za-z_]\w*)\((?:'(?P<arg>[^'\"]*)')?\)\"")
_SRI = re.compile(r"\s+(?:integrity|crossorigin)=\"[^\"]*\"")
# The index's "Asset Name" column (one name per file version, see ``_file_meta``) as a
# drop-down filter: bootstrap-table-filter-control 1.19 fills a <select> by checking every
# option against every other (HTML-unescaping each), then rebuilds it on every column search
# (six at load), so ~400 file versions (a 3-month site) freeze the page for minutes. A text
# filter (the run name's and batch id's kind) is what an auditor can use at that size anyway.
_ASSET_SELECT = re.compile(r"(\{'field': 'asset_name', [^{}]*?'filterControl': )'select'(?=[,}])")

# Replaces the pages' onclick="fn('arg')" handlers (inline handlers are inline scripts).
_HANDLERS_JS = """// Sinergi: GX's onclick handlers, bound without inline script (see datadocs.py).
document.addEventListener("click", function (event) {
  var el = event.target.closest ? event.target.closest("[data-sinergi-call]") : null;
  if (!el) { return; }
  var fn = window[el.getAttribute("data-sinergi-call")];
  var arg = el.getAttribute("data-sinergi-arg");
  if (typeof fn === "function") { if (arg === null) { fn(); } else { fn(arg); } }
});
"""


def run_name(period: str, district: str, dataset: str, version: int) -> str:
    """The GX run name of one file version (``2025-01-3501-ppks-v2``)."""
    return f"{period}-{district}-{dataset}-v{version}"


@cache
def _context(reports_dir: Path, gx_classes: bool = False):
    """GX's ephemeral context over the reports folder's results store and Data Docs site.

    ``gx_classes``: the site built by GX's own index builder and page view instead of
    Sinergi's (:mod:`sinergi.datadocs_site`), for the tests that compare the two.
    """
    from sinergi.gx_import import gx  # first: GX without what no suite uses

    # isort: split
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
                **(_GX_SITE_CLASSES if gx_classes else _site_classes(reports_dir)),
            }
        },
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


_GX_SITE_CLASSES: dict[str, Any] = {"site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}}


def _site_classes(reports_dir: Path) -> dict[str, Any]:
    """Sinergi's index builder and page view (:mod:`sinergi.datadocs_site`): a build reads
    only the results stored or rewritten since the last one."""
    return {
        "site_index_builder": {
            "module_name": "sinergi.datadocs_site",
            "class_name": "KeptSummaryIndexBuilder",
            "summaries_file": str(reports_dir / "gx" / "index-summaries.json"),
            "reports_dir": str(reports_dir),
        },
        "site_section_builders": {
            "validations": {
                "view": {
                    "module_name": "sinergi.datadocs_site",
                    "class_name": "KeptTemplatesPageView",
                }
            },
            # GX's profiling section renders results whose run name says "profiling"; no
            # Sinergi run is called so, and the section walked the whole store each build.
            # "None" is how GX's configuration turns a section off (FALSEY_YAML_STRINGS).
            "profiling": "None",
        },
    }


def _key(suite: str, name: str, run_time: datetime, batch: str):
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    return ValidationResultIdentifier(
        ExpectationSuiteIdentifier(suite), RunIdentifier(run_name=name, run_time=run_time), batch
    )


def _file_meta(name: str, file_name: str, run_time: datetime, verdict: dict | None) -> dict:
    """What the page header and its "Run Info" show about the file version (no values)."""
    parts = _RUN_NAME.match(name)
    info: dict[str, Any] = {"file_name": scrub_identifiers(file_name)}
    if parts:
        info |= {k: parts[k] for k in ("district", "dataset", "period")}
        info["version"] = int(parts["version"])
    if verdict:
        info["verdict"] = verdict["status"]
        info["reason"] = verdict.get("reason") or ""
        info["detail"] = html.escape(scrub_identifiers(verdict.get("detail") or ""))
    asset = (
        " · ".join(str(info[k]) for k in ("district", "dataset", "period") if k in info)
        + f" · v{info.get('version', '?')} · {info['file_name']}"
    )
    if verdict:
        asset += f" · {info['verdict']}" + (f" ({info['reason']})" if info["reason"] else "")
    return {
        "run_id": {"run_name": name, "run_time": run_time.isoformat()},
        "batch_spec": {"data_asset_name": html.escape(asset), **info},
        "active_batch_definition": {
            "datasource_name": "sinergi",
            "data_connector_name": "inbox",
            "data_asset_name": html.escape(asset),
            "batch_identifiers": {"file_version": name},
        },
    }


def save_results(
    reports_dir: Path, run_name: str, run_time: datetime, file_name: str, results: list[dict]
) -> int:
    """Store sanitised suite results of one file version (one per chunk / suite).

    Written where GX's validation results store keeps them (:func:`result_file`), without
    importing GX: every district task stores its versions' results, and under a scheduler each
    is a process of its own, which imported GX (~3-4 s) only to name a file.
    """
    if not results:
        return 0
    for number, result in enumerate(results, start=1):
        suite = result.get("suite_name") or "sinergi"
        result = {
            **result,
            "meta": {
                **(result.get("meta") or {}),
                **_file_meta(run_name, file_name, run_time, None),
            },
        }
        path = result_file(reports_dir, suite, run_name, run_time, f"{file_name}-part{number}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_stored_text(result).encode("utf-8"))
    return len(results)


def result_file(
    reports_dir: Path, suite: str, run_name: str, run_time: datetime, batch: str
) -> Path:
    """The file GX's validation results store (``_context``: a ``TupleFilesystemStoreBackend``
    under ``<reports>/gx/validations``) keeps a result in: the suite name's dotted parts, the
    run name, the run time in UTC and the batch, as folders, ``.json`` added
    (``ValidationResultIdentifier.to_tuple``); ``tests/test_datadocs.py`` checks it is the
    path GX computes for the same key. A part holding a path separator is refused, as GX's
    store refuses it."""
    parts = [
        *suite.split("."),
        run_name or "__none__",
        run_time.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
        batch or "__none__",
    ]
    for part in parts:
        if "/" in part or "\\" in part:
            raise ValueError(f"a Data Docs result key part may not hold a path separator: {part!r}")
    path = reports_dir / "gx" / "validations"
    for part in parts[:-1]:
        path = path / part
    return path / f"{parts[-1]}.json"


def _write_stored(store, key, result: dict) -> None:
    """Store ``result`` (a validation result as GX serialises it: ``to_json_dict`` form)
    under ``key``, as the JSON GX's store writes (``ValidationResultsStore.serialize``:
    sorted keys, indent 2).

    Not through ``store.set``: GX would load the dict into its result objects and dump it
    again with marshmallow (deep copies of every nested value), ~7 ms a result here, ~2 s of
    every small month for the same bytes. ``tests/test_datadocs.py`` checks that every
    stored file is exactly what GX's own load and serialise make of it.
    """
    store.store_backend.set(store.key_to_tuple(key), _stored_text(result))


def _stored_text(result: dict) -> str:
    """A result as GX's store writes it (``ValidationResultsStore.serialize``: sorted keys,
    indent 2); one format for :func:`save_results` and :func:`_write_stored`."""
    return json.dumps(result, indent=2, sort_keys=True)


def _gx_result(result: dict):
    """``result`` as GX's result object (its schema fills in defaults and checks it)."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )

    return ExpectationSuiteValidationResultSchema().load(result)


def _read_stored(store, key) -> dict:
    """A stored result as the JSON dict it was written as (see :func:`_write_stored`)."""
    return json.loads(store.store_backend.get(store.key_to_tuple(key)))


def _file_versions(settings: Settings) -> list[dict]:
    from sinergi.warehouse.connection import open_warehouse
    from sinergi.warehouse.schema import FILE_VERSIONS

    wh = open_warehouse(settings.warehouse_url)
    with wh.connect() as conn:
        rows = wh.execute(
            conn,
            "select period, district_code, dataset, version, file_name, status, "
            f"rejection_reason, rejection_detail, received_at from {FILE_VERSIONS.qualified} "
            "order by period, district_code, dataset, version",
        )
    out = []
    for period, district, dataset, version, file_name, status, reason, detail, received in rows:
        if received.tzinfo is None:
            received = received.replace(tzinfo=UTC)
        out.append(
            {
                "run_name": run_name(str(period)[:7], district, dataset, int(version)),
                "period": str(period)[:7],
                "district": district,
                "dataset": dataset,
                "version": int(version),
                "file_name": file_name,
                "status": status,
                "reason": reason,
                "detail": detail,
                "received_at": received,
            }
        )
    return out


def _minimal_result(version: dict) -> dict:
    """A result for a version GX never validated: the file-level verdict and its reason."""
    return {
        "success": version["status"] != "REJECTED",
        "results": [],
        "suite_name": f"sinergi.{version['dataset']}",
        "suite_parameters": {},
        "statistics": {
            "evaluated_expectations": 0,
            "successful_expectations": 0,
            "unsuccessful_expectations": 0,
            "success_percent": None,
        },
        "meta": _file_meta(
            version["run_name"], version["file_name"], version["received_at"], version
        ),
    }


def reconcile(settings: Settings) -> list[dict]:
    """Give every version in ``audit.file_versions`` an entry and its verdict; returns them.

    Each version gets ``keys`` (its stored results) and ``changed`` (those written now).
    A ledger (``<reports>/gx/reconciled.json``: run name -> digest of the page headers
    written) spares reading back every stored result of every earlier month: a verdict is
    final, so a version whose headers were written is not read again.
    """
    versions = _file_versions(settings)
    store = _context(settings.reports_dir).validation_results_store
    ledger_path = settings.reports_dir / "gx" / "reconciled.json"
    ledger = read_json_dict(ledger_path)
    keys = defaultdict(list)
    for key in store.list_keys():
        keys[key.run_id.run_name].append(key)
    added = 0
    for version in versions:
        found = keys.get(version["run_name"])
        version["changed"] = []
        if not found:
            result = _minimal_result(version)
            key = _key(
                result["suite_name"],
                version["run_name"],
                version["received_at"],
                f"{version['file_name']}-file",
            )
            store.set(key, _gx_result(result))  # GX fills in what a minimal result leaves out
            version["keys"] = version["changed"] = [key]
            added += 1
            continue
        version["keys"] = found
        digest = _header_digest(version, found)
        if ledger.get(version["run_name"]) == digest:
            continue
        for key in found:
            stored = _read_stored(store, key)
            meta = _file_meta(
                version["run_name"], version["file_name"], key.run_id.run_time, version
            )
            if stored["meta"].get("batch_spec") != meta["batch_spec"]:
                stored["meta"].update(meta)
                _write_stored(store, key, stored)
                version["changed"].append(key)
        ledger[version["run_name"]] = digest
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    ledger_path.write_text(json.dumps(ledger, sort_keys=True), encoding="utf-8")
    if added:
        log.info("Data Docs: %d file version(s) had no validation result; entries added", added)
    return versions


def _header_digest(version: dict, keys: list) -> str:
    """The page headers a version's results get (:func:`_file_meta`), as one digest."""
    headers = [
        _file_meta(version["run_name"], version["file_name"], k.run_id.run_time, version)
        for k in sorted(keys, key=str)
    ]
    return lettered(
        hashlib.sha256(json.dumps(headers, sort_keys=True, default=str).encode()).hexdigest()
    )


def read_json_dict(path: Path) -> dict:
    """A JSON object kept in the reports folder (a ledger, the index's summaries); {} when
    the file is missing, unreadable or not an object (it is then rebuilt)."""
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return ledger if isinstance(ledger, dict) else {}


def build_site(settings: Settings) -> Path:
    """Render the Data Docs site for every file version; returns the path of its index page.

    Incremental: only the pages of results that are new or whose verdict changed are
    rendered (and made offline), with the index and the versions page, so a month costs
    the same in December as in January. A site without an index is rendered whole.
    """
    versions = reconcile(settings)
    site = settings.reports_dir / "data-docs"
    context = _context(settings.reports_dir)
    if (site / "index.html").exists():
        rendered = _rendered_pages(site)
        stale = [
            k
            for v in versions
            for k in v["keys"]
            if k in v["changed"] or (k.run_id.run_name, k.batch_identifier) not in rendered
        ]
        if not stale:
            log.info("Data Docs: every file version's pages are current; %s kept", site)
            return site / "index.html"
    else:
        stale = None  # everything
    before = _page_times(site)
    # a set, not GX's documented list: each section builder asks, for every stored key,
    # whether it is to be rendered (``key not in resource_identifiers``); on a list that was
    # keys x new pages comparisons, each formatting two run times (O(history) a month)
    wanted = frozenset(stale) if stale is not None else None
    context.build_data_docs(site_names=[SITE], resource_identifiers=wanted)
    finalise_site(site, versions, before)
    return site / "index.html"


def _rendered_pages(site: Path) -> set[tuple[str, str]]:
    """(run name, batch identifier) of every rendered result page
    (``validations/<suite>/<run name>/<run time>/<batch identifier>.html``)."""
    return {(p.parent.parent.name, p.stem) for p in site.glob("validations/**/*.html")}


def _page_times(site: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in site.rglob("*.html")} if site.exists() else {}


def finalise_site(site: Path, versions: list[dict], before: dict[Path, int] | None = None) -> None:
    """Make the rendered site self-contained (assets, no inline script) and auditor-friendly.

    ``before``: the pages' modification times before rendering; only the pages rendered
    since (new or rewritten) are made offline again (every page when not given).
    """
    shutil.copytree(STATIC / "vendor", site / VENDOR, dirs_exist_ok=True)
    (site / VENDOR / "sinergi-handlers.js").write_text(_HANDLERS_JS, encoding="utf-8")
    for sheet in (site / "static" / "styles").glob("*.css"):
        sheet.write_text(_CSS_REMOTE.sub("none", sheet.read_text(encoding="utf-8")), "utf-8")
    by_run = {v["run_name"]: v for v in versions}
    pages: dict[str, list[Path]] = defaultdict(list)
    for page in sorted(site.glob("validations/**/*.html"), key=_check_order):
        pages[page.parent.parent.name].append(page)
    _write_versions_page(site, versions, pages)
    for page in site.rglob("*.html"):
        if page.name == VERSIONS_PAGE and page.parent == site:
            continue
        if before is not None and before.get(page) == page.stat().st_mtime_ns:
            continue  # rendered and made offline by an earlier run
        text = page.read_text(encoding="utf-8")
        up = Path(*[".."] * len(page.parent.relative_to(site).parts)).as_posix()
        prefix = "" if up == "." else up + "/"
        banner = ""
        if page.parent.parent.name in by_run and "validations" in page.parts:
            version = by_run[page.parent.parent.name]
            banner = _banner(version, pages.get(version["run_name"], []), page, prefix)
        elif page.parent == site and page.name == "index.html":
            banner = (
                '<div class="container-fluid pt-3 pl-5"><p class="lead">'
                f'<a href="{VERSIONS_PAGE}">Every file version with its verdict '
                "(district, dataset, period, version, file)</a></p></div>"
            )
            text = index_filters(text)
        page.write_text(_finalised(text, page, prefix, banner), encoding="utf-8")


def _finalised(text: str, page: Path, prefix: str, banner: str) -> str:
    """One page made offline: vendored assets, inline scripts as files, the Sinergi banner."""
    text = offline_html(text, prefix, page.name)
    bodies = _INLINE_SCRIPT.findall(text)
    for number, body in enumerate(bodies, start=1):
        (page.parent / f"{page.name}.{number}.js").write_text(body, encoding="utf-8")
    numbers = iter(range(1, len(bodies) + 1))
    text = _INLINE_SCRIPT.sub(
        lambda _m: f'<script src="{page.name}.{next(numbers)}.js"></script>', text
    )
    text = text.replace(
        "</body>", f'<script src="{prefix}{VENDOR}/sinergi-handlers.js"></script></body>', 1
    )
    if banner:
        text = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + banner, text, count=1)
    return text


def index_filters(text: str) -> str:
    """The index page with the "Asset Name" filter a text box (see ``_ASSET_SELECT``)."""
    text, count = _ASSET_SELECT.subn(r"\1'input'", text)
    if not count and "'field': 'asset_name'" in text:
        log.warning("Data Docs index: the Asset Name filter was not found; GX's table changed?")
    return text


def offline_html(text: str, prefix: str, page_name: str = "") -> str:
    """``text`` with every CDN script, stylesheet and image replaced by the vendored copy."""

    def local(match: re.Match[str]) -> str:
        url = match["url"]
        if url.startswith(_GX_IMAGES):
            target = prefix + "static/images/" + url[len(_GX_IMAGES) :].split("?")[0]
        elif url in CDN_FILES:
            target = f"{prefix}{VENDOR}/{CDN_FILES[url]}"
        else:
            log.warning("Data Docs page %s: dropped external %s %s", page_name, match["tag"], url)
            return ""
        whole = match.group(0)
        return _SRI.sub("", whole.replace(url, target, 1))

    text = _CSS_REMOTE.sub("none", _RESOURCE.sub(local, text))
    # GX's favicon path on result pages is one ``../`` short: anchor every static/ at the root.
    text = _STATIC_REF.sub(lambda m: f'{m["attr"]}="{prefix}static/', text)
    return _ONCLICK.sub(
        lambda m: (
            f'data-sinergi-call="{m["fn"]}"'
            + (f' data-sinergi-arg="{m["arg"]}"' if m["arg"] is not None else "")
        ),
        text,
    )


def _check_order(page: Path) -> tuple:
    """Row rules (by part), then the duplicates check: the order the pipeline runs them."""
    return (page.parent.parent.parent.name == "duplicates", page.as_posix())


def _label(page: Path) -> str:
    suite = page.parent.parent.parent.name
    if suite == "duplicates":
        return "duplicates check"
    if page.stem.endswith("-file"):
        return "file-level verdict"
    return f"row rules ({page.stem.rsplit('-', 1)[-1]})"


def _describe(version: dict) -> tuple[str, str]:
    """(title, verdict line) of a file version, HTML-escaped and identifier-free."""
    title = (
        f"District {version['district']} · {version['dataset']} · period {version['period']} · "
        f"version {version['version']} · file {version['file_name']}"
    )
    verdict = version["status"]
    if version.get("reason"):
        verdict += f" — {version['reason']}"
    if version.get("detail"):
        verdict += f": {version['detail']}"
    return html.escape(scrub_identifiers(title)), html.escape(scrub_identifiers(verdict))


def _banner(version: dict, pages: list[Path], page: Path, prefix: str) -> str:
    title, verdict = _describe(version)
    links = " · ".join(
        f'<a href="{html.escape(Path(_relative(p, page.parent)).as_posix())}">'
        f"{html.escape(_label(p))}</a>"
        for p in pages
    )
    anchor = html.escape(version["run_name"])
    return (
        '<div class="container-fluid pt-3 pl-5 pr-5 sinergi-file-version">'
        f"<h4>{title}</h4><p>File-level verdict: <strong>{verdict}</strong></p>"
        f"<p>All checks of this file: {links} · "
        f'<a href="{prefix}{VERSIONS_PAGE}#{anchor}">every file version</a></p></div>'
    )


def _relative(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target, start)


def _write_versions_page(site: Path, versions: list[dict], pages: dict[str, list[Path]]) -> None:
    """``versions.html``: one row per file version with its verdict and all its GX pages."""
    rows = []
    for version in versions:
        title, verdict = _describe(version)
        links = " · ".join(
            f'<a href="{html.escape(p.relative_to(site).as_posix())}">{html.escape(_label(p))}</a>'
            for p in pages.get(version["run_name"], [])
        )
        cells = [
            version["period"],
            version["district"],
            version["dataset"],
            str(version["version"]),
            scrub_identifiers(version["file_name"]),
        ]
        rows.append(
            f'<tr id="{html.escape(version["run_name"])}">'
            + "".join(f'<td class="text-nowrap">{html.escape(c)}</td>' for c in cells)
            + f"<td>{verdict}</td><td>{links}</td></tr>"
        )
    (site / VERSIONS_PAGE).write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        "<title>Sinergi: every file version</title>"
        f'<link rel="stylesheet" href="{VENDOR}/bootstrap/dist/css/bootstrap.min.css"></head>'
        '<body><div class="container-fluid p-4"><p><a href="index.html">Data Docs index</a></p>'
        "<h1>Every file version and its verdict</h1>"
        '<table class="table table-sm table-striped"><thead><tr><th>period</th><th>district</th>'
        "<th>dataset</th><th>version</th><th>file</th><th>verdict</th><th>checks</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table></div></body></html>",
        encoding="utf-8",
    )
