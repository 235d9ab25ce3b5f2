#!/usr/bin/env bash
# Issue 5's figure with the real binary and wrk, wrk included on this machine's cores: a seeded
# portfolio (500 clients, about 30,000 invoices; database credo_bench_decisions, made afresh),
# scores cached and every client quoted three times first (its pre-evaluated policy is built at
# its third quote), then POST /v1/decisions under wrk -t2 -c32, each a new quote. Checks that
# every decision wrk got back is in the log, and reads the policy evaluation p50 from /metrics.
# Debian's wrk is installed when absent. Expects DATABASE_URL and REDIS_URL pointing at servers
# that answer (services.sh) and bin/credo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
duration="${BENCH_WRK_DURATION:-15s}"
clients=500
export DATABASE_URL="$(echo "$DATABASE_URL" | sed -E 's#/[^/?]+(\?|$)#/credo_bench_decisions\1#')"
export CREDO_REDIS_PREFIX="credo-bench-decisions:" CREDO_LOG_LEVEL=warn CREDO_SANCTIONS_REFRESH=off CREDO_BODACC_URL=off
log="$root/.local/bench/serve-decisions.log"
mkdir -p "$(dirname "$log")"

. "$root/deploy/local/apt.sh"
command -v wrk >/dev/null || apt_install wrk

admin="$(echo "$DATABASE_URL" | sed -E 's#/[^/?]+(\?|$)#/postgres\1#')"
psql "$admin" -qc "DROP DATABASE IF EXISTS credo_bench_decisions" -c "CREATE DATABASE credo_bench_decisions" >/dev/null
./bin/credo migrate >/dev/null 2>&1
./bin/credo seed demo --clients "$clients" --seed 5 2>/dev/null
./bin/credo sanctions load --source ofac --dir "$root/../shared/data/sanctions/ofac" >/dev/null 2>&1 ||
	echo "(no OFAC list loaded: clients are decided as not screened)" >&2
key="$(./bin/credo keys create --name bench-decisions --role sales --replace 2>/dev/null)"

addr="${BENCH_ADDR:-127.0.0.1:18481}"
CREDO_HTTP_ADDR="$addr" ./bin/credo serve 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 300); do
	curl -sf -o /dev/null "http://$addr/livez" && break
	kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
	sleep 0.1
done
curl -sf -o /dev/null "http://$addr/livez" || { echo "credo serve did not start on $addr" >&2; cat "$log" >&2; exit 1; }

echo "== warm-up: every client quoted until its pre-evaluated policy is built (three quotes at least)"
metric() { curl -s "http://$addr/metrics" | awk -v k="$1" '$1 == k { print int($2) }'; }
warmed() { echo $(( $(metric 'credo_policy_residual_total{kind="built"}') + $(metric 'credo_policy_residual_total{kind="fallback"}') )); }
round=0
while [ "$round" -lt 3 ] || { [ "$round" -lt 20 ] && [ "$(warmed)" -lt "$clients" ]; }; do
	round=$((round + 1))
	for i in $(seq "$clients"); do
		printf '{"quote_id":"warm-%d-%d","client_id":"C%05d","amount":1000,"currency":"EUR","requested_terms_days":30}\n' "$round" "$i" "$i"
	done | xargs -P 8 -d '\n' -I{} curl -sf -o /dev/null -X POST -H "Authorization: Bearer $key" \
		-H "Content-Type: application/json" -d {} "http://$addr/v1/decisions"
	[ "$round" -ge 3 ] && sleep 1
done
echo "$(warmed) client states pre-evaluated after $round rounds"

run="b$(date +%s)"
echo "== POST /v1/decisions: wrk -t2 -c32 -d$duration, a new quote each time"
out="$(wrk -t2 -c32 -d"$duration" -s deploy/local/bench-decisions.lua "http://$addr" -- "$key" "$clients" "$run")"
echo "$out"
answered="$(echo "$out" | sed -nE 's/^decisions: ([0-9]+) in.*not 201: ([0-9]+)$/\1 \2/p')"
sleep 1
logged="$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM decisions WHERE quote_id LIKE '$run-%'")"
read -r requests failed <<<"$answered"
echo "logged: $logged of $((requests - failed)) answered (wrk counts the requests it completed; a request cut off at the end of the run may be logged without being counted)"
curl -s "http://$addr/metrics" | awk '
	/^credo_policy_eval_seconds_bucket/ { split($0, a, "le=\""); split(a[2], b, "\""); le[n++] = b[1]; c[b[1]] = $2 }
	/^credo_policy_eval_seconds_count/ { total = $2 }
	END { for (i = 0; i < n; i++) if (c[le[i]] >= total / 2) { printf "policy evaluation p50 <= %s s (histogram bucket, %d evaluations)\n", le[i], total; exit } }'
curl -s "http://$addr/metrics" | awk '
	/^credo_decision_batch_size_(sum|count)/ { v[$1] = $2 }
	/^credo_decision_commit_seconds_(sum|count)/ { v[$1] = $2 }
	/^credo_decision_seconds_(sum|count)/ { v[$1] = $2 }
	END { printf "group commit: %.1f decisions a commit, %.2f ms a commit; a decision %.2f ms in the server on average\n",
		v["credo_decision_batch_size_sum"] / v["credo_decision_batch_size_count"],
		1000 * v["credo_decision_commit_seconds_sum"] / v["credo_decision_commit_seconds_count"],
		1000 * v["credo_decision_seconds_sum"] / v["credo_decision_seconds_count"] }'
[ "$logged" -ge "$((requests - failed))" ] || { echo "decisions answered but not logged" >&2; exit 1; }
