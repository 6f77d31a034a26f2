"""Sinergi: the data warehouse of the East Java provincial Social Affairs Office.

Business logic lives here so it can be imported and tested without a scheduler; the DAG files
in ``dags/`` only wire these functions into tasks. Importing the package installs the log
scrubber (``sinergi.logscrub``): no ``sinergi.*`` log line carries a 16-digit identifier.
"""

from sinergi import logscrub

logscrub.install()

__version__ = "0.1.0"
