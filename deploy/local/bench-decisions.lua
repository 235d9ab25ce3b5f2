-- wrk script of deploy/local/bench-decisions.sh: POST /v1/decisions with a new quote each time,
-- for the seeded clients C00001..C<n> in turn, amounts and terms varying as a CRM's would.
-- Arguments: the API key, the number of clients, a prefix that makes the quote ids of a run unique.
local threads = {}
local next_id = 0

function setup(thread)
	thread:set("tid", next_id)
	next_id = next_id + 1
	table.insert(threads, thread)
end

function init(args)
	key, clients, prefix = args[1], tonumber(args[2]), args[3]
	n, failed = 0, 0
	headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }
end

function request()
	n = n + 1
	local body = string.format(
		'{"quote_id":"%s-%d-%d","client_id":"C%05d","amount":%d.%02d,"currency":"EUR","requested_terms_days":%d}',
		prefix, tid, n, (n * 7 + tid) % clients + 1, 500 + n % 9000, n % 100, ({ 30, 45, 60 })[n % 3 + 1])
	return wrk.format("POST", "/v1/decisions", headers, body)
end

function response(status, headers, body)
	if status ~= 201 then
		failed = failed + 1
		if failed <= 3 then
			io.stderr:write("status " .. status .. ": " .. body .. "\n")
		end
	end
end

function done(summary, latency, requests)
	local f = 0
	for _, t in ipairs(threads) do
		f = f + t:get("failed")
	end
	io.write(string.format("decisions: %d in %.1f s = %.0f/s; p50 %.1f ms, p99 %.1f ms; not 201: %d\n",
		summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000, f))
end
