package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credorisk/credo/internal/cache"
	"github.com/credorisk/credo/internal/config"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/sanctions"
	"github.com/credorisk/credo/internal/scoring"
)

// openDecisions wires the quote decision service:
//
//	CREDO_RESERVATION_TTL     how long an approved quote holds its amount (default 720h, 30 days)
//	CREDO_DECISION_WRITERS    group-commit writers (default: one per core, GOMAXPROCS)
//	CREDO_DECISION_BATCH      the most decisions one commit logs (default 128)
//	CREDO_DECISION_CONTEXT_TTL the longest a client's cached decision context lives (default 10m)
func (c *cli) openDecisions(a *app) error {
	ttl, err := config.Duration(c.cfg.Env, "CREDO_RESERVATION_TTL", 30*24*time.Hour)
	if err != nil {
		return err
	}
	decided := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "credo_decisions_total", Help: "Quote decisions by outcome."}, []string{"outcome"})
	failSafe := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "credo_policy_failsafe_total",
		Help: "Decisions answered review POLICY_ERROR because the policy failed, by cause."}, []string{"kind"})
	evalTime := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "credo_policy_eval_seconds", Help: "Policy evaluation time.",
		Buckets: []float64{.00005, .0001, .0002, .0005, .001, .002, .005, .01, .05}})
	total := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "credo_decision_seconds", Help: "Whole decision time, until logged.",
		Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .25, 1}})
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "credo_decision_batch_size", Help: "Decisions logged per commit.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}})
	commit := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "credo_decision_commit_seconds",
		Help:    "Time of one group commit: locks, exposure, evaluations and the log write.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .5}})
	a.registry.MustRegister(decided, failSafe, evalTime, total, batch, commit, residualCollector{a.policyProvider})
	ctxTTL, err := config.Duration(c.cfg.Env, "CREDO_DECISION_CONTEXT_TTL", 10*time.Minute)
	if err != nil {
		return err
	}
	contexts := &decisionContexts{ns: a.cache.Namespace("decision-context", max(ctxTTL, time.Second)), memo: newDecoded[decision.ClientContext](),
		clients: a.ledger, sanctions: decisionSanctions{a.sanctions}, log: c.log}
	if a.solvency != nil {
		contexts.solvency = a.solvency
	}
	a.decisionContexts = contexts
	// A context is dropped whenever what it holds changes, on every replica (the cache's bus):
	// ledger writes (a client's identity among them), screening changes, and solvency snapshots
	// (solvency.go).
	ledgerChanged := a.ledger.ClientsChanged
	a.ledger.ClientsChanged = func(ctx context.Context, ids []string) {
		contexts.Invalidate(ctx, ids...)
		if ledgerChanged != nil {
			ledgerChanged(ctx, ids)
		}
	}
	screeningChanged := a.sanctions.ScreeningChanged
	a.sanctions.ScreeningChanged = func(ctx context.Context, ids []string) {
		contexts.Invalidate(ctx, ids...)
		if screeningChanged != nil {
			screeningChanged(ctx, ids)
		}
	}
	a.decisions = &decision.Service{
		Store: postgres.NewDecisions(a.db), Clients: a.ledger, Scores: decisionScores{s: a.scores, memo: newDecoded[decision.ScoreInput]()},
		Sanctions: decisionSanctions{a.sanctions}, Solvency: a.solvency, Policies: a.policyProvider, Context: contexts,
		Currency: c.cfg.Currency, ReservationTTL: ttl, Log: c.log,
		Observer: decision.Observer{
			Decided: func(o decision.Outcome, eval, took time.Duration) {
				decided.WithLabelValues(string(o)).Inc()
				evalTime.Observe(eval.Seconds())
				total.Observe(took.Seconds())
			},
			FailSafe: func(kind string) { failSafe.WithLabelValues(kind).Inc() },
			Batch: func(size int, took time.Duration) {
				batch.Observe(float64(size))
				commit.Observe(took.Seconds())
			},
		},
	}
	return nil
}

// startDecisions starts the group-commit writers; they stop with ctx, after the HTTP server has
// answered every request in flight.
func (c *cli) startDecisions(ctx context.Context, a *app) error {
	// One writer per core: each holds a batch's transaction while it evaluates, and more writers
	// than cores only make smaller batches (4 writers on 2 cores: 3.4 decisions a commit and
	// 1,500-1,800 decisions/s; 2 writers: 5.3 and 1,850-2,150/s in BenchmarkDecisions).
	writers, err := config.Int(c.cfg.Env, "CREDO_DECISION_WRITERS", int64(runtime.GOMAXPROCS(0)))
	if err != nil {
		return err
	}
	size, err := config.Int(c.cfg.Env, "CREDO_DECISION_BATCH", 128)
	if err != nil {
		return err
	}
	a.decisions.Start(ctx, int(max(1, writers)), int(max(1, size)))
	return nil
}

// decoded remembers, per client, the value decoded from the cached bytes it last saw: a quote
// decodes a client's cached JSON again only when the cache holds different bytes.
type decoded[T any] struct {
	seed maphash.Seed
	mu   sync.Mutex
	m    map[string]decodedEntry[T]
}

type decodedEntry[T any] struct {
	sum uint64
	v   T
}

// maxDecoded bounds the memory of a decoded set; past it, it starts again.
const maxDecoded = 200_000

func newDecoded[T any]() *decoded[T] {
	return &decoded[T]{seed: maphash.MakeSeed(), m: map[string]decodedEntry[T]{}}
}

// get returns what decode gives for these bytes of this client, decoding only new bytes.
func (d *decoded[T]) get(clientID string, decode func() (T, error), parts ...[]byte) (T, error) {
	var h maphash.Hash
	h.SetSeed(d.seed)
	for _, p := range parts {
		_, _ = h.Write(p)
	}
	sum := h.Sum64()
	d.mu.Lock()
	e, ok := d.m[clientID]
	d.mu.Unlock()
	if ok && e.sum == sum {
		return e.v, nil
	}
	v, err := decode()
	if err != nil {
		return v, err
	}
	d.mu.Lock()
	if len(d.m) >= maxDecoded {
		clear(d.m)
	}
	d.m[clientID] = decodedEntry[T]{sum: sum, v: v}
	d.mu.Unlock()
	return v, nil
}

// decisionScores gives a decision the client's cached score and the metrics behind it.
type decisionScores struct {
	s    *scoring.Service
	memo *decoded[decision.ScoreInput]
}

func (d decisionScores) DecisionScore(ctx context.Context, clientID string) (decision.ScoreInput, error) {
	card, err := d.s.Score(ctx, clientID, false)
	if err != nil {
		return decision.ScoreInput{}, err
	}
	// The English document and the metrics are what a decision reads of a card.
	return d.memo.get(clientID, func() (decision.ScoreInput, error) { return scoreInput(card) }, card.ScoreJSON("en"), card.MetricsJSON())
}

// scoreInput decodes what a decision needs of a score card.
func scoreInput(card scoring.Card) (decision.ScoreInput, error) {
	m, err := card.Metrics()
	if err != nil {
		return decision.ScoreInput{}, err
	}
	doc, err := card.Doc("en")
	if err != nil {
		return decision.ScoreInput{}, err
	}
	reasons := make([]decision.ScoreReason, len(doc.Reasons))
	for i, r := range doc.Reasons {
		reasons[i] = decision.ScoreReason{Code: r.Code, Text: r.Text, PointsLost: float64(r.PointsLost)}
	}
	return decision.ScoreInput{
		Score: decision.Score{Value: float64(card.Score()), RiskClass: decision.RiskClass(card.RiskClass()), PD: card.PD(),
			ModelVersion: card.ModelVersion(), Reasons: reasons},
		Metrics: decision.Metrics{OpenAR: m.OpenAR, Overdue: m.Overdue, OverdueRate: m.OverdueRate, MaxDaysOverdue: m.MaxDaysOverdue,
			WeightedDBT12m: m.WeightedDBT12m, PaidCount12m: m.PaidCount12m, DSO: m.DSO},
		HasInvoices: card.HasInvoices(),
	}, nil
}

// decisionContexts caches each client's decision context (identity, screening, solvency) so a
// quote reads no table for it: an entry is dropped when the client, its screening or its
// solvency changes (hooks above and in solvency.go), and lives at most CREDO_DECISION_CONTEXT_TTL
// (default 10 minutes) in any case.
type decisionContexts struct {
	ns        *cache.Namespace
	memo      *decoded[decision.ClientContext]
	clients   decision.Clients
	sanctions decision.SanctionsSource
	solvency  decision.SolvencySource
	log       *slog.Logger
}

func (d *decisionContexts) DecisionContext(ctx context.Context, clientID string, today ledger.Date) (decision.ClientContext, error) {
	b, err := d.ns.GetOrCompute(ctx, clientID, func(ctx context.Context) ([]byte, error) {
		cc, err := decision.ReadClientContext(ctx, d.clients, d.sanctions, d.solvency, d.log, clientID, today)
		if err != nil {
			return nil, err
		}
		return json.Marshal(cc)
	})
	if err != nil {
		return decision.ClientContext{}, err
	}
	return d.memo.get(clientID, func() (decision.ClientContext, error) {
		var cc decision.ClientContext
		if err := json.Unmarshal(b, &cc); err != nil {
			return cc, fmt.Errorf("decode the decision context of %s: %w", clientID, err)
		}
		return cc, nil
	}, b)
}

// Invalidate drops clients' contexts (solvency snapshots call it).
func (d *decisionContexts) Invalidate(ctx context.Context, ids ...string) {
	d.ns.Invalidate(ctx, ids...)
}

// decisionSanctions gives a decision the client's screening status.
type decisionSanctions struct{ s *sanctions.Service }

func (d decisionSanctions) DecisionSanctions(ctx context.Context, clientID string) (decision.Sanctions, error) {
	r, err := d.s.Status(ctx, clientID)
	if err != nil {
		return decision.Sanctions{}, err
	}
	out := decision.Sanctions{Status: decision.SanctionsStatus(r.Status), Hits: make([]decision.SanctionsHit, 0, len(r.Hits))}
	for _, h := range r.Hits {
		out.Hits = append(out.Hits, decision.SanctionsHit{EntryID: h.Entry.String(), List: string(h.Entry.Source), MatchedName: h.MatchedName, Score: h.Score})
	}
	return out, nil
}

// residualCollector exports the serving policy's pre-evaluation counters: evaluations served by a
// client's residual or by the whole policy, residuals built, fallbacks, evictions, and entries.
type residualCollector struct{ p decision.Policies }

var residualDesc = prometheus.NewDesc("credo_policy_residual_total",
	"Policy pre-evaluation of the serving version: evaluations by path, residuals built, fallbacks, evictions.", []string{"kind"}, nil)

var residualEntriesDesc = prometheus.NewDesc("credo_policy_residual_entries", "Client states cached by the serving version.", nil, nil)

func (r residualCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- residualDesc
	ch <- residualEntriesDesc
}

func (r residualCollector) Collect(ch chan<- prometheus.Metric) {
	p := r.p.Active()
	if p == nil || p.Engine == nil {
		return
	}
	st := p.Engine.ResidualStats()
	for kind, v := range map[string]int64{"residual": st.Residual, "full": st.Full, "built": st.Built, "fallback": st.Fallbacks, "evicted": st.Evicted} {
		ch <- prometheus.MustNewConstMetric(residualDesc, prometheus.CounterValue, float64(v), kind)
	}
	ch <- prometheus.MustNewConstMetric(residualEntriesDesc, prometheus.GaugeValue, float64(st.Entries))
}
