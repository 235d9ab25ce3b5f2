# Credo: `make run` serves the API with a demo portfolio, `make test` runs every test.
# Both start Postgres and Redis when none answers (deploy/local/services.sh).
SHELL := /bin/bash
GO ?= go
SERVICES = eval "$$(deploy/local/services.sh)"
BIN = bin/credo
# The public sanctions lists the demo screens against (loading the same files again changes nothing).
DEMO_LISTS ?= ../shared/data/sanctions

.PHONY: run build test chromium bench bench-import bench-sanctions bench-metrics bench-score bench-policy bench-decisions vet clean services

build:
	$(GO) build -o $(BIN) ./cmd/credo

## run: migrate, seed a demo portfolio when the database is empty, load the demo sanctions lists, print a demo admin key, serve on :8080
run: build
	@$(SERVICES); \
	./$(BIN) migrate && \
	./$(BIN) seed demo --if-empty && \
	if [ -d $(DEMO_LISTS)/ofac ]; then \
		./$(BIN) sanctions load --source ofac --dir $(DEMO_LISTS)/ofac && \
		./$(BIN) sanctions load --source un --file $(DEMO_LISTS)/un/consolidated.xml; \
	fi && \
	echo "demo admin key (use as: Authorization: Bearer <key>): $$(./$(BIN) keys create --name demo-admin --role admin --replace)" && \
	exec ./$(BIN) serve

## test: vet, then every test against the real Postgres and Redis, with the race detector
test: chromium
	@$(SERVICES); \
	$(GO) vet ./... && \
	$(GO) test -race -count=1 -timeout 15m ./...

vet:
	$(GO) vet ./...

## chromium: Debian's Chromium for the console's end-to-end tests (cmd/credo/console_e2e_test.go),
## installed when absent; when it cannot be, those tests skip and say why
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	bash -c '. deploy/local/apt.sh && apt_install chromium >/dev/null 2>&1' || \
	echo "chromium could not be installed: the console end-to-end tests will skip"

## bench: the benchmarks named by the issues (imports, metrics, scores, decisions, screening)
bench: build bench-import bench-sanctions bench-metrics bench-score bench-policy bench-decisions
	@$(SERVICES); \
	$(GO) test -run '^$$' -bench . -benchtime 3x -count 1 ./...

## bench-sanctions: the screening quality report (OFAC's own tool, recall) and one screening over
## OFAC + UN on one core (p50/p99), the index build and the heap it holds, a client's screening
## status read as a quote decision reads it (Postgres)
bench-sanctions:
	$(GO) test ./internal/sanctions -run Quality -v -count 1
	$(GO) test ./internal/sanctions -run '^$$' -bench 'Search$$' -benchtime 20000x -cpu 1 -count 1
	$(GO) test ./internal/sanctions -run '^$$' -bench 'IndexBuild$$' -benchtime 5x -cpu 1 -count 1
	@$(SERVICES); $(GO) test ./internal/sanctions -run '^$$' -bench 'Status$$' -benchtime 2000x -cpu 1 -count 1

## bench-metrics: receivables metrics through the store, p50/p99: one client of 5,000 invoices
## (200 samples), then the portfolio's metrics and forecast and the scorer's batch on credo_bench
bench-metrics:
	@$(SERVICES); \
	$(GO) test ./internal/postgres -run '^$$' -bench 'ClientMetrics$$' -benchtime 200x -count 1 && \
	$(GO) test ./internal/postgres -run '^$$' -bench 'PortfolioMetrics$$|PortfolioForecast$$|FactsByClient$$' -benchtime 5x -count 1

## bench-policy: replay of 100,000 logged decisions through a draft (streamed from Postgres,
## evaluated on GOMAXPROCS workers), and the stream alone; the seeded database is kept between runs
bench-policy:
	@$(SERVICES); \
	$(GO) test ./internal/postgres -run '^$$' -bench 'PolicyReplay$$' -benchtime 1x -count 1 -v

## bench-score: credo score --all on credo_bench and its cached GET /score under wrk -t2 -c32
## (deploy/local/bench-score.sh), the uncached score of a 2,000-invoice client (200 samples,
## p50/p99), and the cached GET under the Go load generator
bench-score: build
	@$(SERVICES); \
	deploy/local/bench-score.sh && \
	$(GO) test ./internal/postgres -run '^$$' -bench 'ScoreUncached$$' -benchtime 200x -count 1 && \
	$(GO) test ./cmd/credo -run '^$$' -bench 'ScoreCachedGET$$' -benchtime 3x -count 1

## bench-decisions: POST /v1/decisions under wrk -t2 -c32 on a seeded portfolio, scores cached, wrk
## included (deploy/local/bench-decisions.sh: decisions/s, p50/p99, every answer in the log, the
## policy evaluation p50, the group commit), then the same under the Go load generator
## (BenchmarkDecisions) and the policy evaluation alone (BenchmarkEvaluate)
bench-decisions: build
	@$(SERVICES); \
	deploy/local/bench-decisions.sh && \
	$(GO) test ./cmd/credo -run '^$$' -bench 'BenchmarkDecisions$$' -benchtime 20000x -count 1 && \
	$(GO) test ./internal/decision -run '^$$' -bench 'BenchmarkEvaluate$$' -count 1

## bench-import: import a generated CSV of 1,000,000 invoices for 10,000 clients and report rows/s
bench-import: build
	@$(SERVICES); CREDO_DB_NAME=credo_bench deploy/local/bench-import.sh

services:
	@deploy/local/services.sh

clean:
	rm -rf bin .local/bench
