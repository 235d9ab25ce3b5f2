# Credo: `make run` serves the API with a demo portfolio, `make test` runs every test.
# Both start Postgres and Redis when none answers (deploy/local/services.sh).
SHELL := /bin/bash
GO ?= go
SERVICES = eval "$$(deploy/local/services.sh)"
BIN = bin/credo

.PHONY: run build test test-short bench bench-import vet clean services

build:
	$(GO) build -o $(BIN) ./cmd/credo

## run: migrate, seed a demo portfolio when the database is empty, print a demo admin key, serve on :8080
run: build
	@$(SERVICES); \
	./$(BIN) migrate && \
	./$(BIN) seed demo --if-empty && \
	echo "demo admin key (use as: Authorization: Bearer <key>): $$(./$(BIN) keys create --name demo-admin --role admin --replace)" && \
	exec ./$(BIN) serve

## test: vet, then every test against the real Postgres and Redis, with the race detector
test:
	@$(SERVICES); \
	$(GO) vet ./... && \
	$(GO) test -race -count=1 -timeout 15m ./...

vet:
	$(GO) vet ./...

## bench: the benchmarks named by the issues (imports, metrics, scores, decisions, screening)
bench: build bench-import
	@$(SERVICES); \
	$(GO) test -run '^$$' -bench . -benchtime 3x -count 1 ./...

## bench-import: import a generated CSV of 1,000,000 invoices for 10,000 clients and report rows/s
bench-import: build
	@$(SERVICES); CREDO_DB_NAME=credo_bench deploy/local/bench-import.sh

services:
	@deploy/local/services.sh

clean:
	rm -rf bin .local/bench
