#!/usr/bin/env bash
# Refuse to start the Sinergi stack with placeholder or weak secrets.
#
#   bash docker/preflight.sh .env   on the host (`make check-env`, run by `make up`): reads the
#                                   file; a variable set in the environment wins, as it does
#                                   for docker-compose.
#   bash /preflight.sh              in the `preflight` service of docker-compose.yml: checks
#                                   its environment. PostgreSQL, and so everything else, starts
#                                   only after it exits 0.
#
# Prints the names of the bad variables, never their values. Generate good ones with
# `make env` (python3 docker/make_env.py), or one at a time:
#   python3 -c "import secrets; print(secrets.token_hex(32))"
set -euo pipefail

declare -A from_file=()
source_name="environment"
if [[ $# -ge 1 ]]; then
    env_file=$1
    source_name=$env_file
    if [[ ! -f $env_file ]]; then
        echo "preflight: $env_file not found. Create it: make env (or cp .env.example .env and" \
            "fill in every change-me), see docs/production.md" >&2
        exit 1
    fi
    # docker-compose 1.x .env syntax: NAME=value, no quotes handling, # starts a comment line.
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        if [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
            from_file[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
        fi
    done <"$env_file"
fi

value_of() {
    local name=$1
    if [[ -n ${!name+set} ]]; then
        printf '%s' "${!name}"
    elif [[ -n ${from_file[$name]+set} ]]; then
        printf '%s' "${from_file[$name]}"
    fi
}

problems=()

# check NAME MIN_LENGTH CHARSET_REGEX HINT
check() {
    local name=$1 min=$2 charset=$3 hint=$4 value
    value=$(value_of "$name")
    if [[ -z $value ]]; then
        problems+=("$name is not set ($hint)")
    elif [[ $value == change-me* ]]; then
        problems+=("$name is still the change-me placeholder ($hint)")
    elif ((${#value} < min)); then
        problems+=("$name is shorter than $min characters ($hint)")
    elif [[ ! $value =~ $charset ]]; then
        problems+=("$name has characters outside $charset ($hint)")
    fi
}

hex_hint="python3 -c 'import secrets; print(secrets.token_hex(32))'"
# Database passwords end up inside connection URLs: keep them URL-safe.
url_safe='^[A-Za-z0-9._~-]+$'
printable='^[[:graph:]]+$'

check SINERGI_PII_KEY 32 "$printable" "the HMAC key for NIK / No. KK: $hex_hint; never change it once data is loaded"
check POSTGRES_PASSWORD 16 "$url_safe" "$hex_hint"
check AIRFLOW_DB_PASSWORD 16 "$url_safe" "$hex_hint"
check SINERGI_ETL_PASSWORD 16 "$url_safe" "$hex_hint"
check AIRFLOW_ADMIN_PASSWORD 12 "$printable" "the Airflow UI password of AIRFLOW_ADMIN_USER"
check AIRFLOW__CORE__FERNET_KEY 44 '^[A-Za-z0-9_-]{43}=$' \
    "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
check AIRFLOW__API_AUTH__JWT_SECRET 32 "$printable" "$hex_hint"
check AIRFLOW__API__SECRET_KEY 32 "$printable" "$hex_hint"

# The CeleryExecutor needs the `celery` profile (Redis and the workers), and the other way
# round: one without the other leaves every task queued, or workers that never get a task.
executor=$(value_of AIRFLOW_EXECUTOR)
executor=${executor:-LocalExecutor}
profiles=",$(value_of COMPOSE_PROFILES | tr -d ' '),"
case $executor in
    CeleryExecutor)
        [[ $profiles == *,celery,* ]] ||
            problems+=("AIRFLOW_EXECUTOR=CeleryExecutor needs COMPOSE_PROFILES=celery (Redis and the workers)")
        check REDIS_PASSWORD 16 "$url_safe" "the Celery broker's password: $hex_hint"
        ;;
    LocalExecutor)
        [[ $profiles != *,celery,* ]] ||
            problems+=("COMPOSE_PROFILES=celery needs AIRFLOW_EXECUTOR=CeleryExecutor (or the workers never get a task)")
        ;;
    *)
        problems+=("AIRFLOW_EXECUTOR must be LocalExecutor or CeleryExecutor, not $executor")
        ;;
esac
if [[ $profiles == *,flower,* && $profiles != *,celery,* ]]; then
    problems+=("COMPOSE_PROFILES=flower needs celery too (COMPOSE_PROFILES=celery,flower)")
fi

if ((${#problems[@]} > 0)); then
    echo "preflight: refusing to start, fix these in $source_name (docs/production.md):" >&2
    for problem in "${problems[@]}"; do
        echo "  - $problem" >&2
    done
    exit 1
fi
echo "preflight: secrets in $source_name look fine"
