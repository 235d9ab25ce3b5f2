#!/usr/bin/env bash
# Makes sure Postgres and Redis answer for development and tests, and prints the environment to
# use them:  eval "$(deploy/local/services.sh)"
#
# - If DATABASE_URL / REDIS_URL (or the defaults, 127.0.0.1:5432 and :6379) answer, they are used.
# - Otherwise private servers are started from the installed binaries, with their data under
#   .local/ in the checkout (Postgres on 127.0.0.1:55432, Redis on 127.0.0.1:56379).
# - Debian's postgresql and redis-server are installed first when their binaries are absent.
# Messages go to stderr; only export lines go to stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="$root/.local"
db_name="${CREDO_DB_NAME:-credo}"
db_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$db_name?sslmode=disable}"
redis_url="${REDIS_URL-redis://127.0.0.1:6379/0}"

say() { echo "services: $*" >&2; }

. "$root/deploy/local/apt.sh"

pg_bin() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}

pg_answers() { # url
	local bin
	if command -v psql >/dev/null; then
		psql "$1" -Atqc 'select 1' >/dev/null 2>&1 && return 0
		# The database itself may be missing while the server answers.
		psql "$(echo "$1" | sed -E 's#/[^/?]+(\?|$)#/postgres\1#')" -Atqc 'select 1' >/dev/null 2>&1
	else
		return 1
	fi
}

ensure_db() { # url
	local admin name
	name="$(echo "$1" | sed -E 's#^.*/([^/?]+)(\?.*)?$#\1#')"
	admin="$(echo "$1" | sed -E 's#/[^/?]+(\?|$)#/postgres\1#')"
	if ! psql "$admin" -Atqc "select 1 from pg_database where datname = '$name'" | grep -q 1; then
		say "creating database $name"
		psql "$admin" -qc "create database \"$name\"" >&2
	fi
}

start_private_pg() {
	local bin data port=55432 user=postgres run=()
	bin="$(pg_bin)" || { apt_install postgresql; bin="$(pg_bin)"; }
	data="$state/pg"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || as_root useradd --system --home-dir "$state" --shell /bin/false postgres
		run=(runuser -u postgres --)
	else
		user="$(id -un)"
	fi
	mkdir -p "$state"
	if [ ! -f "$data/PG_VERSION" ]; then
		say "initialising a private Postgres in $data"
		mkdir -p "$data"
		[ "$(id -u)" = 0 ] && chown postgres "$data"
		"${run[@]}" "$bin/initdb" -D "$data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >&2 2>/dev/null ||
			"${run[@]}" "$bin/initdb" -D "$data" -U "$user" --auth=trust -E UTF8 >&2
	fi
	if ! "${run[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		say "starting the private Postgres on 127.0.0.1:$port"
		"${run[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
			-o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
	fi
	db_url="postgres://$user@127.0.0.1:$port/$db_name?sslmode=disable"
}

redis_answers() { # url
	command -v redis-cli >/dev/null && [ "$(redis-cli -u "$1" ping 2>/dev/null)" = PONG ]
}

start_private_redis() {
	local port=56379
	command -v redis-server >/dev/null || apt_install redis-server
	mkdir -p "$state/redis"
	if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
		say "starting a private Redis on 127.0.0.1:$port"
		redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
			--dir "$state/redis" --logfile "$state/redis/redis.log" >&2
		for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
	fi
	redis_url="redis://127.0.0.1:$port/0"
}

command -v psql >/dev/null || apt_install postgresql-client
if pg_answers "$db_url"; then
	say "using Postgres at ${db_url%%\?*}"
else
	start_private_pg
fi
ensure_db "$db_url"

if [ -n "$redis_url" ]; then
	if redis_answers "$redis_url"; then
		say "using Redis at $redis_url"
	else
		command -v redis-cli >/dev/null || apt_install redis-tools
		redis_answers "$redis_url" && say "using Redis at $redis_url" || start_private_redis
	fi
fi

echo "export DATABASE_URL='$db_url'"
echo "export REDIS_URL='$redis_url'"
