"""``[core] hostname_callable`` for two Celery workers on one machine (the celery test).

Airflow records the worker's host name on each task try; in production every worker is its
own machine or container, here both share one host, so each worker process is given a name
in ``SINERGI_TEST_WORKER_NAME`` and reports that instead.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("SINERGI_TEST_WORKER_NAME") or socket.getfqdn()
