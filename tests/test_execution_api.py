"""The in-process execution API built for the Task SDK's version only (sinergi.execution_api).

The trimmed bundle must give the SDK's version exactly the routes, and the request and
response models, that Airflow's full bundle gives it; and the in-process app must answer
the SDK's requests after the trim.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("airflow_db")


def _generate(app, bundle):
    from cadwyn.route_generation import generate_versioned_routers

    return generate_versioned_routers(
        app._latest_version_router,
        webhooks=app.webhooks,
        versions=bundle,
        api_version_parameter_name=app.api_version_parameter_name,
        api_version_location=app._api_version_location,
    ).endpoints


def _schema(annotation) -> str | None:
    from pydantic import TypeAdapter

    return None if annotation is None else repr(TypeAdapter(annotation).json_schema())


def _signature(router) -> list[tuple]:
    """Each route's path, methods, and the JSON schema of its body and response models."""
    rows = []
    for route in router.routes:
        body = getattr(route, "body_field", None)
        response = getattr(route, "response_model", None)
        rows.append(
            (
                route.path,
                tuple(sorted(getattr(route, "methods", ()) or ())),
                _schema(body.field_info.annotation) if body else None,
                _schema(response),
            )
        )
    return sorted(rows)


def test_the_sdk_version_gets_the_same_routes_as_from_the_full_bundle():
    from airflow.api_fastapi.execution_api.app import create_task_execution_api_app
    from airflow.sdk.api.datamodels._generated import API_VERSION

    from sinergi.execution_api import (
        _paths_only_older_versions_have,
        _paths_restored,
        trimmed_bundles,
    )

    app = create_task_execution_api_app()
    full = app.versions
    deleted = _paths_only_older_versions_have(app._latest_version_router)
    bundle = next(b for b in trimmed_bundles(full, API_VERSION) if deleted <= _paths_restored(b))
    assert bundle.version_values[0] == API_VERSION
    assert len(bundle.version_values) < len(full.version_values), "nothing was trimmed"
    assert bundle.versions[-1].changes == ()

    trimmed_routes = _generate(app, bundle)
    full_routes = _generate(app, full)
    assert set(trimmed_routes) == set(bundle.version_values)
    for version in bundle.version_values:
        assert _signature(trimmed_routes[version]) == _signature(full_routes[version]), version


def test_an_unknown_version_trims_nothing():
    from airflow.api_fastapi.execution_api.app import create_task_execution_api_app

    from sinergi.execution_api import trimmed_bundles

    assert list(trimmed_bundles(create_task_execution_api_app().versions, "1999-01-01")) == []


def test_the_in_process_api_answers_the_sdk_after_the_trim():
    import httpx
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    from sinergi.execution_api import serve_only_the_sdk_version

    serve_only_the_sdk_version()
    api = in_process_api_server()
    assert api.app._cadwyn_initialized
    assert api.app.versions.version_values[0] == API_VERSION
    assert len(api.app.versions.version_values) < 5
    client = httpx.Client(transport=api.transport, base_url="http://in-process.invalid./")
    answer = client.get("/health", headers={"airflow-api-version": API_VERSION})
    assert answer.status_code == 200
    # a second call is a no-op: the app is initialised once
    serve_only_the_sdk_version()
    assert api.app.versions.version_values[0] == API_VERSION
