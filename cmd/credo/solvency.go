package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credorisk/credo/internal/config"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/solvency"
)

// openSolvency wires solvency data: the Postgres store, the providers the environment enables
// (with their metrics), and the service that scores, decisions and the API read. serve runs its
// background refresh; other commands only read, refresh on demand or import.
func (c *cli) openSolvency(a *app) error {
	getenv := c.cfg.Env
	cfg, err := solvency.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	if cfg.HTTP, err = solvencyHTTPOptions(getenv); err != nil {
		return err
	}
	cfg.HTTP.Logger, cfg.HTTP.Hooks = c.log, solvencyMetrics(a.registry)
	providers, err := cfg.Providers()
	if err != nil {
		return err
	}
	// Imports read letter grades through the bureau's scale even when the bureau API is off.
	var mapping *solvency.Mapping
	if path := strings.TrimSpace(getenv("CREDO_BUREAU_MAPPING")); path != "" {
		if mapping, err = solvency.LoadMapping(path); err != nil {
			return err
		}
	}
	perMinute, err := config.Int(getenv, "CREDO_SOLVENCY_RATE", 20)
	if err != nil {
		return err
	}
	interval, err := config.Duration(getenv, "CREDO_SOLVENCY_INTERVAL", time.Minute)
	if err != nil {
		return err
	}
	if perMinute < 1 || interval < time.Second {
		return fmt.Errorf("CREDO_SOLVENCY_RATE must be at least 1 fetch per minute and CREDO_SOLVENCY_INTERVAL at least 1s")
	}
	a.solvency, err = solvency.NewService(solvency.ServiceConfig{
		Store: postgres.NewSolvency(a.db), Providers: providers, MaxAge: cfg.MaxAge,
		Interval: interval, PerMinute: float64(perMinute), Mapping: mapping, Log: c.log,
		// The scorer is wired after this service (it reads it): look it up when a snapshot lands.
		Invalidate: func(ctx context.Context, ids ...string) {
			if a.scores != nil {
				a.scores.Invalidate(ctx, ids...)
			}
			if a.decisionContexts != nil {
				a.decisionContexts.Invalidate(ctx, ids...)
			}
		},
	})
	if err != nil {
		return err
	}
	c.log.Debug("solvency configuration", "config", cfg, "providers", a.solvency.Providers())
	return nil
}

// solvencyHTTPOptions reads the provider call limits: CREDO_SOLVENCY_TIMEOUT (per request, 5s),
// CREDO_SOLVENCY_ATTEMPTS (per request, 3) and CREDO_SOLVENCY_BACKOFF (first retry pause, 200ms).
func solvencyHTTPOptions(getenv func(string) string) (solvency.HTTPOptions, error) {
	var o solvency.HTTPOptions
	var err error
	if o.Timeout, err = config.Duration(getenv, "CREDO_SOLVENCY_TIMEOUT", 5*time.Second); err != nil {
		return o, err
	}
	attempts, err := config.Int(getenv, "CREDO_SOLVENCY_ATTEMPTS", 3)
	if err != nil {
		return o, err
	}
	if attempts < 1 || attempts > 10 {
		return o, fmt.Errorf("CREDO_SOLVENCY_ATTEMPTS must be 1 to 10, got %d", attempts)
	}
	o.MaxAttempts = int(attempts)
	if o.BaseBackoff, err = config.Duration(getenv, "CREDO_SOLVENCY_BACKOFF", 200*time.Millisecond); err != nil {
		return o, err
	}
	if o.Timeout <= 0 || o.BaseBackoff <= 0 {
		return o, fmt.Errorf("CREDO_SOLVENCY_TIMEOUT and CREDO_SOLVENCY_BACKOFF must be positive")
	}
	return o, nil
}

// solvencyMetrics counts provider fetches, HTTP attempts and breaker states.
func solvencyMetrics(reg *prometheus.Registry) solvency.Hooks {
	fetches := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "credo_solvency_fetches_total",
		Help: "Solvency provider fetches by provider and outcome (ok, not_found, error, circuit_open, unsupported)."}, []string{"provider", "outcome"})
	seconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "credo_solvency_fetch_seconds",
		Help: "Solvency provider fetch time, retries included.", Buckets: prometheus.ExponentialBuckets(0.01, 3, 8)}, []string{"provider"})
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "credo_solvency_attempts_total",
		Help: "Solvency provider HTTP attempts by provider and status (0: network error)."}, []string{"provider", "status"})
	breaker := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "credo_solvency_breaker_state",
		Help: "Solvency provider circuit breaker: 0 closed, 1 open, 2 half-open."}, []string{"provider"})
	reg.MustRegister(fetches, seconds, attempts, breaker)
	return solvency.Hooks{
		OnFetch: func(p, outcome string, took time.Duration) {
			fetches.WithLabelValues(p, outcome).Inc()
			seconds.WithLabelValues(p).Observe(took.Seconds())
		},
		OnAttempt: func(p string, status int, _ error) { attempts.WithLabelValues(p, strconv.Itoa(status)).Inc() },
		OnBreaker: func(p string, _, to solvency.BreakerState) { breaker.WithLabelValues(p).Set(float64(to)) },
	}
}

// importSolvency is `credo import solvency`: a bureau export as solvency snapshots.
func (c *cli) importSolvency(args []string) error {
	fs := c.flags("import solvency")
	file := fs.String("file", "", "the bureau export (CSV) to import (required)")
	mapping := fs.String("map", "", "comma-separated field=Column pairs (fields: client_id, grade, score, limit, status, date, revenue, equity)")
	dateFormat := fs.String("date-format", "iso", "iso, us (M/D/YYYY), eu (D/M/YYYY) or a Go layout")
	delimiter := fs.String("delimiter", "", "CSV delimiter (one character, or tab; default: detected from the header)")
	decimal := fs.String("decimal", ".", "decimal separator: . or ,")
	provider := fs.String("provider", solvency.ImportProvider, "provider name stored on the snapshots")
	atomic := fs.Bool("atomic", false, "import nothing if any row fails")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	actor := fs.String("actor", "cli", "the name recorded with the snapshots and in the audit log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("%w: --file is required", errUsage)
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	start := time.Now()
	rep, err := a.solvency.Import(c.ctx, f, solvency.ImportOptions{Actor: *actor, Atomic: *atomic, CSV: solvency.CSVParams{
		Map: *mapping, DateFormat: *dateFormat, Delimiter: *delimiter, Decimal: *decimal, Provider: *provider}})
	if err != nil && !(*atomic && rep.Rejected > 0) {
		return fmt.Errorf("import %s: %s", *file, describe(err))
	}
	if *asJSON {
		if jerr := writeJSONTo(c.stdout, rep); jerr != nil {
			return jerr
		}
	} else {
		fmt.Fprintf(c.stdout, "solvency import (%s): %d received, %d imported, %d rejected in %.1fs\n",
			rep.Provider, rep.Received, rep.Imported, rep.Rejected, time.Since(start).Seconds())
		for i, e := range rep.Errors {
			if i == 20 {
				fmt.Fprintf(c.stdout, "  ... and %d more (use --json for all listed)\n", len(rep.Errors)-20)
				break
			}
			fmt.Fprintf(c.stdout, "  line %d: %s: %s\n", e.Line, e.Field, e.Message)
		}
	}
	if err != nil {
		return fmt.Errorf("nothing imported: %d rows failed and --atomic was given", rep.Rejected)
	}
	return nil
}

func writeJSONTo(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// solvencyCmd is `credo solvency show|refresh CLIENT`.
func (c *cli) solvencyCmd(args []string) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "refresh") {
		return fmt.Errorf("%w: credo solvency show|refresh CLIENT [--json]", errUsage)
	}
	sub := args[0]
	fs := c.flags("solvency " + sub)
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	raw := fs.Bool("raw", false, "show: include the providers' raw payloads (with --json)")
	actor := fs.String("actor", "cli", "refresh: the name recorded with the snapshots")
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return fmt.Errorf("%w: credo solvency %s CLIENT [--json]", errUsage, sub)
	}
	id := args[1]
	if err := parseFlags(fs, args[2:]); err != nil {
		return err
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	var rep solvency.Report
	if sub == "refresh" {
		rr, err := a.solvency.Refresh(c.ctx, id, *actor)
		if err != nil {
			return fmt.Errorf("%s", describe(err))
		}
		if *asJSON {
			return writeJSONTo(c.stdout, rr)
		}
		for _, o := range rr.Results {
			fmt.Fprintf(c.stdout, "%-8s %s", o.Provider, o.Outcome)
			if o.Error != "" {
				fmt.Fprintf(c.stdout, ": %s", o.Error)
			}
			fmt.Fprintln(c.stdout)
		}
		rep = rr.Solvency
	} else {
		if rep, err = a.solvency.Report(c.ctx, id, *raw); err != nil {
			return fmt.Errorf("%s", describe(err))
		}
		if *asJSON {
			return writeJSONTo(c.stdout, rep)
		}
	}
	printSolvency(c.stdout, rep)
	return nil
}

// printSolvency renders a client's solvency report for a terminal.
func printSolvency(w io.Writer, rep solvency.Report) {
	for _, p := range rep.Providers {
		state := "never fetched"
		if p.Snapshot != nil {
			state = fmt.Sprintf("fetched %s (%d days ago)", p.Snapshot.FetchedAt.Format(time.RFC3339), *p.AgeDays)
		}
		if p.Stale {
			state += ", stale"
		}
		if p.LastFailure != nil {
			state += fmt.Sprintf(", last failure %s: %s", p.LastFailure.At.Format(time.RFC3339), p.LastFailure.Error)
		}
		fmt.Fprintf(w, "%-8s %s\n", p.Provider, state)
	}
	v := rep.View
	if !v.Available {
		fmt.Fprintf(w, "view: nothing known about client %s\n", rep.ClientID)
		return
	}
	ins := "none open"
	if v.Insolvency.Open {
		ins = "OPEN " + v.Insolvency.Kind
		if v.Insolvency.JudgmentDate != nil {
			ins += " since " + v.Insolvency.JudgmentDate.String()
		}
	}
	grade := "none"
	if v.Grade != nil {
		grade = strconv.Itoa(*v.Grade)
	}
	fmt.Fprintf(w, "view: company %s, insolvency %s, grade %s, stale %v, sources %s\n",
		v.CompanyStatus, ins, grade, v.Stale, strings.Join(v.Sources, ", "))
}
