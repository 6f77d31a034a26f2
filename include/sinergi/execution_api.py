"""The in-process execution API of ``sinergi run``, built for the one API version it serves.

``dag.test()`` talks to Airflow's task execution API in-process (``InProcessExecutionAPI``,
one per process). That API is a cadwyn application: at its first request it generates a
router, with request and response migrations, for *every* API version it has ever had (ten
in Airflow 3.3). Measured on this 2-core machine: 3.5 s of every ``sinergi run``'s first
task, before any work. The only client of this in-process server is the Task SDK of the same
installation, which always sends its own ``API_VERSION`` (the newest).

:func:`serve_only_the_sdk_version` hands cadwyn a copy of the version bundle that ends at the
SDK's version, followed by the next older version *without* its own changes. That is exact
for both: the router of a version is the head router with the changes of every *newer*
version undone, and a version's own changes only describe how to reach the version before
it. A route that only older versions have must be restored by a version in the bundle
(cadwyn refuses otherwise), so the bundle grows one version at a time until cadwyn accepts it
(three of ten in Airflow 3.3), and falls back to the full bundle. A request with an older
version would get cadwyn's own "unknown version" answer; none comes in this process.
Measured: the first request 3.0 s -> 1.1 s. A scheduler, worker or api-server never calls
this: they keep Airflow's full API.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any


def trimmed_bundles(bundle: Any, newest_needed: str) -> Iterator[Any]:
    """Copies of the cadwyn ``VersionBundle`` ``bundle``, shortest first, each holding the
    versions from the head down to ``newest_needed`` or further, then the next older one
    emptied of its changes; nothing when ``newest_needed`` is not one of its versions."""
    values = [version.value for version in bundle.versions]
    if newest_needed not in values:
        return
    for keep in range(values.index(newest_needed) + 1, len(values) - 1):
        yield _trimmed(bundle, keep)


def _trimmed(bundle: Any, keep: int) -> Any:
    from cadwyn import Version

    older = bundle.versions[keep]
    versions = (*bundle.versions[:keep], Version(older.value))
    trimmed = copy.copy(bundle)
    trimmed.__dict__.pop("versioned_schemas", None)
    trimmed.__dict__.pop("versioned_enums", None)
    trimmed.versions = versions
    trimmed.reversed_versions = tuple(reversed(versions))
    trimmed.version_values = tuple(version.value for version in versions)
    trimmed.reversed_version_values = tuple(reversed(trimmed.version_values))
    trimmed._all_versions = (bundle.head_version, *versions)
    trimmed._version_changes_to_version_mapping = {
        change: version.value for version in versions for change in version.changes
    }
    trimmed._version_values_set = set(trimmed.version_values)
    return trimmed


def _paths_only_older_versions_have(router: Any) -> set[str]:
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    return {
        route.path for route in router.routes if _DELETED_ROUTE_TAG in getattr(route, "tags", ())
    }


def _paths_restored(bundle: Any) -> set[str]:
    """Paths whose route a version change of ``bundle`` restores for older versions
    (cadwyn's ``endpoint(...).existed``); asked first so as not to pay for a generation
    cadwyn would refuse."""
    from cadwyn.structure.endpoints import EndpointExistedInstruction

    return {
        instruction.endpoint_path
        for version in bundle.versions
        for change in version.changes
        for instruction in change.alter_endpoint_instructions
        if isinstance(instruction, EndpointExistedInstruction)
    }


def serve_only_the_sdk_version() -> None:
    """Make this process's in-process execution API generate routes only for the Task SDK's
    API version (see the module's docstring). Call before the first task runs; a no-op once
    the API has served a request."""
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from airflow.sdk.execution_time.supervisor import in_process_api_server
    from cadwyn.exceptions import RouterGenerationError

    app = in_process_api_server().app
    if getattr(app, "_cadwyn_initialized", True):
        return
    full = app.versions
    deleted = _paths_only_older_versions_have(app._latest_version_router)
    for bundle in trimmed_bundles(full, API_VERSION):
        if not deleted <= _paths_restored(bundle):
            continue
        app.versions = bundle
        try:
            app._cadwyn_initialize()
            return
        except RouterGenerationError:
            continue  # a route an older version restores: keep one version more
    app.versions = full
