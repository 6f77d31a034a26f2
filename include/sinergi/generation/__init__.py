"""Building blocks of the synthetic inbox generator (public entry point: ``sinergi.generate``).

The generator is split by concern so each part stays small enough to read in one sitting:

* ``common``      seeded randomness, sizes, calendar helpers;
* ``population``  the stable people and households of one district (same every month);
* ``tables``      what one district reports for one period, as typed columns;
* ``styles``      how a district writes values (dates, grouping, headers, encodings);
* ``faults``      which files of a period get which faults (the plan);
* ``inject``      the row-level fault injectors and their reason codes;
* ``timing``      received times (file mtimes) around the deadline;
* ``writers``     CSV / XLSX bytes (deterministic) and stray files;
* ``files``       one submission: cells -> faults -> files -> manifest entry;
* ``inbox``       the orchestration over districts and periods, and the manifest.
"""
