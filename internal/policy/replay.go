package policy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Replay bounds.
const (
	DefaultSampleSize = 20
	MaxSampleSize     = 500
	MaxReplayLimit    = 10_000_000
	// replayBatch is how many logged decisions travel to a worker at once: enough to make the
	// channel's cost vanish, few enough that workers share the tail of the stream evenly.
	replayBatch = 128
	// ReplayEvalTimeout is the deadline of one evaluation in a replay. A replay asks what the
	// policy decides, and runs beside the traffic on every core: the serving deadline (50 ms)
	// would turn a busy moment into fail-safe answers that are not the policy's. A policy that
	// loops still fails, later.
	ReplayEvalTimeout = time.Second
)

// ReplayOptions are the engine options of a replay: opts with ReplayEvalTimeout, and without
// pre-evaluation per client state. A residual pays for itself after some thirty quotes of one
// client state; a replay meets most states once or twice, and its background builds would take
// the cores from the evaluations.
func ReplayOptions(opts decision.Options) decision.Options {
	opts.EvalTimeout = ReplayEvalTimeout
	opts.ResidualCacheSize = -1
	return opts
}

// ReplayRequest selects the logged decisions to replay.
type ReplayRequest struct {
	// From and To bound the decision time: From <= decided_at < To.
	From, To time.Time
	// Limit caps the number replayed, oldest first (0: all of them).
	Limit int
	// SampleSize caps the changed decisions shown side by side (the first ones, oldest first).
	SampleSize int
}

// ReplayReport says what a version would have decided on logged inputs, against what was
// decided. A decision changed when its outcome, credit limit, payment terms or set of reason
// codes differ.
type ReplayReport struct {
	Version   int       `json:"version"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Evaluated int       `json:"evaluated"`
	Changed   int       `json:"changed"`
	// Transitions counts the outcome changes, keyed "logged->replayed" (approve->review).
	Transitions map[string]int `json:"transitions"`
	// Outcomes counts the outcomes as logged and as replayed.
	Outcomes struct {
		Logged   map[string]int `json:"logged"`
		Replayed map[string]int `json:"replayed"`
	} `json:"outcomes"`
	// LimitDelta is the total of replayed minus logged credit limits.
	LimitDelta ledger.Money `json:"limit_delta"`
	// FailSafe counts the inputs on which this version gave the fail-safe answer (an evaluation
	// error, the deadline, a result outside the contract).
	FailSafe   int            `json:"fail_safe"`
	DurationMS float64        `json:"duration_ms"`
	Sample     []ReplayChange `json:"sample"`
}

// ReplayChange is one changed decision, logged and replayed answers side by side.
type ReplayChange struct {
	DecisionID    string       `json:"decision_id"`
	QuoteID       string       `json:"quote_id"`
	ClientID      string       `json:"client_id"`
	DecidedAt     time.Time    `json:"decided_at"`
	LoggedVersion int          `json:"logged_policy_version"`
	Logged        ReplayAnswer `json:"logged"`
	Replayed      ReplayAnswer `json:"replayed"`
	// Failure is why the replayed answer is the fail-safe one, when it is.
	Failure string `json:"failure,omitempty"`
	seq     int
}

// ReplayAnswer is a decision's answer as replay compares it.
type ReplayAnswer struct {
	Outcome      string                `json:"outcome"`
	CreditLimit  ledger.Money          `json:"credit_limit"`
	PaymentTerms decision.PaymentTerms `json:"payment_terms"`
	Reasons      []decision.Reason     `json:"reasons"`
}

func (r ReplayRequest) validate() error {
	var fields []fault.FieldError
	if r.From.IsZero() {
		fields = append(fields, fault.Field("from", "is required"))
	}
	if r.To.IsZero() {
		fields = append(fields, fault.Field("to", "is required"))
	}
	if !r.From.IsZero() && !r.To.IsZero() && !r.To.After(r.From) {
		fields = append(fields, fault.Field("to", "must be after from"))
	}
	if r.Limit < 0 || r.Limit > MaxReplayLimit {
		fields = append(fields, fault.Field("limit", "must be between 0 (all) and %d", MaxReplayLimit))
	}
	if r.SampleSize < 0 || r.SampleSize > MaxSampleSize {
		fields = append(fields, fault.Field("sample_size", "must be between 0 and %d", MaxSampleSize))
	}
	if len(fields) > 0 {
		return fault.Validation("the replay request is not valid", fields...)
	}
	return nil
}

// Replay evaluates the logged inputs of past decisions with a version and compares the answers
// with the logged ones. Nothing is written but the audit entry of the replay.
func (s *Service) Replay(ctx context.Context, version int, req ReplayRequest, actor string) (ReplayReport, error) {
	if err := req.validate(); err != nil {
		return ReplayReport{}, err
	}
	if s.Decisions == nil {
		return ReplayReport{}, errNoLog
	}
	if !s.replaying.TryLock() {
		return ReplayReport{}, fault.Errorf(fault.Unavailable, "a replay is already running on this replica; try again when it is done")
	}
	defer s.replaying.Unlock()
	engines := s.ReplayEngines
	if engines == nil {
		engines = s.Engines
	}
	pol, err := engines.Get(ctx, version)
	if err != nil {
		return ReplayReport{}, err
	}
	rep, err := ReplayLog(ctx, s.Decisions, pol.Engine, req, s.ReplayWorkers)
	if err != nil {
		return ReplayReport{}, err
	}
	rep.Version = version
	if err := s.Store.Audit(ctx, actor, "policy.replay", version, map[string]any{
		"from": req.From, "to": req.To, "limit": req.Limit, "evaluated": rep.Evaluated, "changed": rep.Changed,
		"transitions": rep.Transitions, "limit_delta": rep.LimitDelta, "fail_safe": rep.FailSafe,
	}); err != nil {
		return ReplayReport{}, err
	}
	return rep, nil
}

// ReplayLog streams the decisions of log selected by req through eng on workers goroutines
// (GOMAXPROCS when 0) and tallies the differences. The result does not depend on the number of
// workers: counts are sums, and the sample is the first changed decisions in log order.
func ReplayLog(ctx context.Context, log DecisionLog, eng *decision.Engine, req ReplayRequest, workers int) (ReplayReport, error) {
	start := time.Now()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type job struct {
		seq  int
		rows []Logged
	}
	jobs := make(chan job, 2*workers)
	tallies := make([]*tally, workers)
	var wg sync.WaitGroup
	for w := range tallies {
		t := newTally(req.SampleSize)
		tallies[w] = t
		wg.Go(func() {
			for j := range jobs {
				for i, row := range j.rows {
					if err := t.add(ctx, eng, j.seq+i, row); err != nil {
						cancel(err)
						return
					}
				}
			}
		})
	}
	seq := 0
	batch := make([]Logged, 0, replayBatch)
	send := func() error {
		select {
		case jobs <- job{seq: seq, rows: batch}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		seq += len(batch)
		batch = make([]Logged, 0, replayBatch)
		return nil
	}
	err := log.Logged(ctx, req.From, req.To, req.Limit, func(l Logged) error {
		batch = append(batch, l)
		if len(batch) == replayBatch {
			return send()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = send()
	}
	close(jobs)
	wg.Wait()
	// A cancelled context makes evaluations answer fail-safe: counts taken then are not results.
	if cause := context.Cause(ctx); cause != nil {
		err = cause
	}
	if err != nil {
		return ReplayReport{}, err
	}
	rep := merge(tallies, req.SampleSize)
	rep.From, rep.To = req.From, req.To
	rep.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return rep, nil
}

// tally is one worker's share of a replay.
type tally struct {
	evaluated, changed, failSafe int
	limitDelta                   ledger.Money
	transitions                  map[string]int
	logged, replayed             map[string]int
	sampleSize                   int
	sample                       []ReplayChange
}

func newTally(sampleSize int) *tally {
	return &tally{transitions: map[string]int{}, logged: map[string]int{}, replayed: map[string]int{}, sampleSize: sampleSize}
}

func (t *tally) add(ctx context.Context, eng *decision.Engine, seq int, row Logged) error {
	r := eng.EvaluateJSON(ctx, row.Input)
	var loggedReasons []decision.Reason
	if len(row.Reasons) > 0 {
		if err := json.Unmarshal(row.Reasons, &loggedReasons); err != nil {
			return fmt.Errorf("decision %s: the logged reasons cannot be read: %w", row.DecisionID, err)
		}
	}
	t.evaluated++
	if r.FailSafe() {
		t.failSafe++
	}
	t.logged[row.Outcome]++
	t.replayed[string(r.Outcome)]++
	t.limitDelta += r.CreditLimit - row.CreditLimit
	terms := decision.PaymentTerms{NetDays: row.NetDays, EndOfMonth: row.EndOfMonth, DepositPercent: row.Deposit}
	outcomeChanged := string(r.Outcome) != row.Outcome
	if !outcomeChanged && r.CreditLimit == row.CreditLimit && r.PaymentTerms == terms && sameCodes(loggedReasons, r.Reasons) {
		return nil
	}
	t.changed++
	if outcomeChanged {
		t.transitions[row.Outcome+"->"+string(r.Outcome)]++
	}
	// Rows reach a worker in log order, so its first changes are its earliest ones.
	if len(t.sample) < t.sampleSize {
		c := ReplayChange{DecisionID: row.DecisionID, QuoteID: row.QuoteID, ClientID: row.ClientID, DecidedAt: row.DecidedAt,
			LoggedVersion: row.PolicyVersion, seq: seq,
			Logged:   ReplayAnswer{Outcome: row.Outcome, CreditLimit: row.CreditLimit, PaymentTerms: terms, Reasons: nonNil(loggedReasons)},
			Replayed: ReplayAnswer{Outcome: string(r.Outcome), CreditLimit: r.CreditLimit, PaymentTerms: r.PaymentTerms, Reasons: nonNil(r.Reasons)}}
		if r.Err != nil {
			c.Failure = r.Err.Error()
		}
		t.sample = append(t.sample, c)
	}
	return nil
}

func nonNil(r []decision.Reason) []decision.Reason {
	if r == nil {
		return []decision.Reason{}
	}
	return r
}

// sameCodes compares the sets of reason codes.
func sameCodes(a, b []decision.Reason) bool {
	if len(a) != len(b) {
		return false
	}
	codes := func(rs []decision.Reason) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.Code
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(codes(a), codes(b))
}

func merge(tallies []*tally, sampleSize int) ReplayReport {
	rep := ReplayReport{Transitions: map[string]int{}, Sample: []ReplayChange{}}
	rep.Outcomes.Logged, rep.Outcomes.Replayed = map[string]int{}, map[string]int{}
	add := func(dst, src map[string]int) {
		for k, n := range src {
			dst[k] += n
		}
	}
	for _, t := range tallies {
		rep.Evaluated += t.evaluated
		rep.Changed += t.changed
		rep.FailSafe += t.failSafe
		rep.LimitDelta += t.limitDelta
		add(rep.Transitions, t.transitions)
		add(rep.Outcomes.Logged, t.logged)
		add(rep.Outcomes.Replayed, t.replayed)
		rep.Sample = append(rep.Sample, t.sample...)
	}
	slices.SortFunc(rep.Sample, func(a, b ReplayChange) int { return cmp.Compare(a.seq, b.seq) })
	if len(rep.Sample) > sampleSize {
		rep.Sample = rep.Sample[:sampleSize]
	}
	return rep
}

// errNoLog is returned when a Service has no decision log to replay.
var errNoLog = errors.New("policy: no decision log to replay")
