// Package httpapi is Credo's HTTP API on echo v4: routes, handlers, middleware and problem+json
// errors. It is the only package that imports echo.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/config"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
	"github.com/credorisk/credo/internal/sanctions"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/internal/solvency"
)

// Deps are what the handlers call.
type Deps struct {
	Log      *slog.Logger
	Config   config.Config
	Ledger   *ledger.Service
	Keys     *auth.Keys
	Registry *prometheus.Registry
	OpenAPI  []byte
	// Sanctions screens names and clients against the sanctions lists.
	Sanctions *sanctions.Service
	// Metrics builds the receivables facts behind the metrics and forecast routes.
	Metrics FactsSource
	// Scores serves the clients' risk scores, explanations and history, and the models.
	Scores *scoring.Service
	// Decisions decides quotes and reads the decision log.
	Decisions *decision.Service
	// Policies is the policy lifecycle: versions, drafts, tests, replay, activation.
	Policies *policy.Service
	// Solvency reads, refreshes and imports the clients' solvency snapshots.
	Solvency *solvency.Service
	// Console is the web console (internal/web), mounted under /console when set.
	Console http.Handler
	// Ready reports whether this replica can serve: Postgres answers, migrations are current,
	// policy and model loaded. It returns the details shown on /readyz.
	Ready func(ctx context.Context) (map[string]any, error)
}

// Server is the HTTP API.
type Server struct {
	Deps
	log     *slog.Logger
	echo    *echo.Echo
	metrics *httpMetrics
}

// New builds the server and its routes.
func New(d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{Deps: d, log: d.Log, echo: e, metrics: newHTTPMetrics(d.Registry)}
	e.HTTPErrorHandler = s.errorHandler
	e.Use(s.requestID, s.recoverPanic, s.observe, secureHeaders)
	s.routes()
	return s
}

// Handler is the server as an http.Handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers on ln until ctx is done, then stops taking connections and lets requests in
// flight finish (up to the configured shutdown timeout).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
