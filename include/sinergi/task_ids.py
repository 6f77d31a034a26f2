"""The monthly DAG's task ids, in one light module (the DAG, cosmos glue and ``sinergi run``'s
check of what ran all name the same tasks; importing this pulls in neither Airflow nor cosmos).
"""

DAG_ID = "sinergi_monthly"
DISCOVER_TASK_ID = "discover"  # plans the run: which districts have something new
JUDGE_TASK_ID = "judge"  # the month's files judged together, before the district loads
DISTRICT_TASK_ID = "validate_and_load"
MARTS_CHECK_TASK_ID = "check_marts_inputs"  # skips dbt when the marts are current
DBT_GROUP_ID = "dbt"  # cosmos task group: one task per model / seed
FALLBACK_TASK_ID = "dbt_build"  # one `dbt build` when no usable manifest
CROSS_MODEL_TESTS_TASK_ID = "cross_model_tests"
DOCS_TASK_ID = "dbt_docs"
APPROVAL_DAG_ID = "sinergi_approval"  # the province's approval form (sinergi.approvals)
