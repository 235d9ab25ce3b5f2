package main

import (
	"context"
	"fmt"
	"net"
	"runtime/debug"

	"github.com/credorisk/credo"
	"github.com/credorisk/credo/internal/httpapi"
)

func (c *cli) serve(args []string) error {
	fs := c.flags("serve")
	addr := fs.String("addr", c.cfg.HTTPAddr, "listen address (CREDO_HTTP_ADDR)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Policy evaluation allocates heavily: collecting garbage less often saves about a quarter of
	// its CPU for a little more memory. GOGC, when set, wins.
	if c.cfg.Env("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	a, err := c.open(c.cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer a.close()
	// Lists come from Postgres, never from a download at start: a site being down cannot leave
	// the service without lists. The background job stops before the pool closes.
	if err := a.sanctions.Load(c.ctx); err != nil {
		return err
	}
	// The active policy (version 1 from the embedded policies/ on a first start), then its
	// activations, through the bus and a poll of Postgres.
	if err := a.policyProvider.Load(c.ctx); err != nil {
		return err
	}
	bg, stopBG := context.WithCancel(c.ctx)
	policyDone := make(chan struct{})
	go func() { a.policyProvider.Run(bg); close(policyDone) }()
	defer func() { stopBG(); <-policyDone }()
	bgDone, scoresDone := make(chan struct{}), make(chan struct{})
	go func() { a.sanctions.Run(bg); close(bgDone) }()
	go func() { a.scores.WatchSanctions(bg, sanctionsWatchInterval); close(scoresDone) }()
	defer func() { stopBG(); <-bgDone; <-scoresDone }()
	// Snapshots older than the maximum age and new clients are fetched in the background; no
	// request waits for a provider. The refresh stops before the pool closes.
	solvencyDone := make(chan struct{})
	go func() { a.solvency.Run(bg); close(solvencyDone) }()
	defer func() { stopBG(); <-solvencyDone }()
	// Decisions in flight finish before the writers stop: Serve returns after the requests.
	dctx, stopDecisions := context.WithCancel(context.Background())
	defer stopDecisions()
	if err := c.startDecisions(dctx, a); err != nil {
		return err
	}
	console, err := c.console(a)
	if err != nil {
		return err
	}
	srv := httpapi.New(httpapi.Deps{
		Log: c.log, Config: c.cfg, Ledger: a.ledger, Keys: a.keys, Registry: a.registry,
		OpenAPI: credo.OpenAPI, Ready: a.ready, Sanctions: a.sanctions,
		Metrics: a.metrics, Scores: a.scores, Policies: a.policies, Decisions: a.decisions,
		Solvency: a.solvency, Console: console,
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	c.log.Info("credo serving", "addr", ln.Addr().String(), "currency", c.cfg.Currency)
	return srv.Serve(c.ctx, ln)
}

func (c *cli) migrate(args []string) error {
	if err := parseFlags(c.flags("migrate"), args); err != nil {
		return err
	}
	a, err := c.open(true)
	if err != nil {
		return err
	}
	defer a.close()
	cur, _, err := a.db.MigrationState(c.ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "database schema at version %d\n", cur)
	return err
}
