package main

import (
	"net/http"

	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/web"
)

// console builds the web console on the app's services. Without CREDO_CONSOLE_SECRET, the
// secret stored in Postgres is used (the first replica to start stores a random one), so a
// session is valid on every replica.
func (c *cli) console(a *app) (http.Handler, error) {
	cfg, err := web.ConfigFromEnv(c.cfg.Env, c.cfg)
	if err != nil {
		return nil, err
	}
	board := postgres.NewConsoleBoard(a.db)
	if cfg.Secret == nil {
		if cfg.Secret, err = board.Secret(c.ctx, web.NewSecret()); err != nil {
			return nil, err
		}
	}
	c.log.Info("console under /console", "secret", web.SecretFingerprint(cfg.Secret),
		"session_ttl", cfg.SessionTTL.String(), "idle_timeout", cfg.IdleTimeout.String())
	return web.New(web.Deps{
		Keys: a.keys, Ledger: a.ledger, Metrics: a.metrics, Scores: web.ScoresOf(a.scores),
		Decisions: a.decisions.Store, Policies: a.policies, Sanctions: web.SanctionsOf(a.sanctions),
		Solvency: a.solvency, Board: board, Log: c.log,
	}, cfg)
}
