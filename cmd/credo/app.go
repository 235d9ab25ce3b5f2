package main

import (
	"context"
	"fmt"
	"maps"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/cache"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/sanctions"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/internal/solvency"
)

// app is Credo wired together: stores on Postgres and the domain services on top.
type app struct {
	db       *postgres.DB
	ledger   *ledger.Service
	keys     *auth.Keys
	registry *prometheus.Registry
	// metrics builds receivables facts (KPIs and forecasts) from the ledger.
	metrics *postgres.Metrics
	// sanctions screens clients; it loads its lists from Postgres only when asked (serve, search).
	sanctions *sanctions.Service
	// cache is the shared cache and bus (Redis, or in-process without REDIS_URL).
	cache *cache.Cache
	// scores scores clients with the active model, through the cache.
	scores *scoring.Service
	// policies is the policy lifecycle; policyProvider is the version this replica serves
	// (the decision service's decision.Policies).
	policies       *policy.Service
	policyProvider *policy.Provider
	// decisions decides quotes (its writers run only under serve); decisionContexts caches what a
	// quote reads about its client.
	decisions        *decision.Service
	decisionContexts *decisionContexts
	// solvency holds the providers' snapshots that scores and decisions read; serve runs its
	// background refresh.
	solvency *solvency.Service
}

// open connects to Postgres and wires the services; migrate applies pending migrations first.
func (c *cli) open(migrate bool) (*app, error) {
	db, err := postgres.Open(c.ctx, c.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := db.Migrate(c.ctx, c.log); err != nil {
			db.Close()
			return nil, err
		}
	} else if cur, target, err := db.MigrationState(c.ctx); err != nil || cur < target {
		db.Close()
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("the database schema is at version %d, this credo needs %d: run 'credo migrate'", cur, target)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &app{
		db:       db,
		ledger:   &ledger.Service{Store: postgres.NewLedger(db, c.cfg.Currency), Currency: c.cfg.Currency},
		keys:     auth.NewKeys(postgres.NewKeys(db), c.cfg.KeyCacheTTL),
		registry: reg,
		metrics:  postgres.NewMetrics(db),
	}
	scfg, err := sanctions.ConfigFromEnv(c.cfg.Env)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.sanctions = sanctions.NewService(postgres.NewSanctions(db), scfg, c.log)
	a.ledger.ClientIdentityChanged = a.sanctions.ClientIdentityChanged
	clientsChanged := a.ledger.ClientsChanged
	a.ledger.ClientsChanged = func(ctx context.Context, ids []string) {
		if clientsChanged != nil {
			clientsChanged(ctx, ids)
		}
		a.sanctions.ClientsChanged(ctx, ids) // client imports: screen the changed clients
	}
	if err := c.openSolvency(a); err != nil {
		a.close()
		return nil, err
	}
	screenIdentity := a.ledger.ClientIdentityChanged
	a.ledger.ClientIdentityChanged = func(ctx context.Context, cl ledger.Client) {
		screenIdentity(ctx, cl)
		a.solvency.ClientIdentityChanged(ctx, cl) // a new client or company: fetch its solvency
	}
	if err := c.openScores(a); err != nil {
		a.close()
		return nil, err
	}
	if err := c.openPolicies(a); err != nil {
		a.close()
		return nil, err
	}
	if err := c.openDecisions(a); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *app) close() {
	if a.cache != nil {
		_ = a.cache.Close()
	}
	a.db.Close()
}

// ready is the readiness check: Postgres answers and the schema is current.
func (a *app) ready(ctx context.Context) (map[string]any, error) {
	cur, target, err := a.db.MigrationState(ctx)
	details := map[string]any{"schema_version": cur}
	if err != nil {
		return details, fmt.Errorf("postgres: %w", err)
	}
	if cur < target {
		return details, fmt.Errorf("schema at version %d, %d expected", cur, target)
	}
	if a.scores == nil {
		return details, fmt.Errorf("no scoring model loaded")
	}
	details["model"] = a.scores.Model().Version()
	details["cache"] = map[string]any{"mode": a.cache.Mode(), "redis_up": a.cache.Up()}
	policyDetails, err := a.policyProvider.Readiness()
	maps.Copy(details, policyDetails)
	if err != nil {
		return details, err
	}
	return details, nil
}
