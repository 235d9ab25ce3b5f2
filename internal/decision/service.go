package decision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// ScoreInput is what the scorer contributes to a decision: the score and the receivables metrics
// it was computed from, as of today.
type ScoreInput struct {
	Score       Score
	Metrics     Metrics
	HasInvoices bool
}

// The sources a decision reads; cmd/credo wires them to the scoring, sanctions and solvency
// services.
type (
	// Scores gives a client's current (cached) score.
	Scores interface {
		DecisionScore(ctx context.Context, clientID string) (ScoreInput, error)
	}
	// SanctionsSource gives a client's screening status.
	SanctionsSource interface {
		DecisionSanctions(ctx context.Context, clientID string) (Sanctions, error)
	}
	// SolvencySource gives what the solvency providers last said about a client.
	SolvencySource interface {
		DecisionSolvency(ctx context.Context, clientID string, today ledger.Date) (Solvency, error)
	}
	// Clients reads clients and registers prospects.
	Clients interface {
		GetClient(ctx context.Context, id string) (ledger.Client, error)
		PutClient(ctx context.Context, c ledger.Client, actor string) (ledger.WriteResult, ledger.Client, error)
	}
	// Policies gives the policy version this replica serves.
	Policies interface {
		Active() *Policy
	}
	// ContextSource, when set, gives a client, its screening and its solvency in one (cached)
	// call instead of three reads; an unknown client is a fault.NotFound.
	ContextSource interface {
		DecisionContext(ctx context.Context, clientID string, today ledger.Date) (ClientContext, error)
	}
)

// ClientContext is what a decision reads about a client besides its score and exposure.
type ClientContext struct {
	Client    ledger.Client `json:"client"`
	Sanctions Sanctions     `json:"sanctions"`
	Solvency  Solvency      `json:"solvency"`
}

// Policy is a compiled policy version.
type Policy struct {
	Version int
	Engine  *Engine
}

// ExposureBase is what a client owes and has reserved, as Postgres knows it now.
type ExposureBase struct {
	OpenAR, Overdue, Reserved ledger.Money
}

// Store keeps the decision log and the reservations; postgres.Decisions implements it.
type Store interface {
	// ByQuote returns the logged decision of a quote, or nil.
	ByQuote(ctx context.Context, quoteID string) (*LogEntry, error)
	// CommitBatch decides and logs a batch of decisions in one transaction. It takes each
	// client's exposure lock (shared by every replica) and reads the clients' exposure; then it
	// calls decide for each pending decision, in client order, with the exposure its client has
	// once the batch's earlier reservations are counted; then it writes the log entries and
	// reservations and commits. A quote already logged is not written again: its pending
	// decision gets Duplicate instead.
	CommitBatch(ctx context.Context, batch []*Pending, decide func(p *Pending, fresh ExposureBase) (reserve ledger.Money)) error
	Get(ctx context.Context, decisionID string) (LogEntry, error)
	List(ctx context.Context, f Filter) ([]LogEntry, string, error)
	Release(ctx context.Context, decisionID, actor string) (LogEntry, error)
}

// Filter selects logged decisions, newest first after the cursor.
type Filter struct {
	ClientID    string
	Outcome     Outcome
	From, To    *time.Time
	RequestedBy string // set for sales keys: each sees its own
	After       string
	Limit       int
}

// Pending is a decision on its way to the log.
type Pending struct {
	Entry   LogEntry
	Input   Input
	Base    ExposureBase // the exposure the evaluation used
	Reserve ledger.Money // what the decision reserves (approved quotes)
	// Duplicate is set by the store when the quote was already logged (then Entry is not written).
	Duplicate *LogEntry
	policy    *Policy
	result    Result
	done      chan error
}

// Observer is told about each decision, for metrics and logs; every method may be nil.
type Observer struct {
	Decided  func(outcome Outcome, eval, total time.Duration)
	FailSafe func(kind string)
	Batch    func(size int, took time.Duration)
}

// Service decides quotes.
type Service struct {
	Store     Store
	Clients   Clients
	Scores    Scores
	Sanctions SanctionsSource
	Solvency  SolvencySource
	Policies  Policies
	// Context replaces Clients.GetClient, Sanctions and Solvency on the request path when set.
	Context  ContextSource
	Currency string
	// ReservationTTL is how long an approved quote holds its amount (CREDO_RESERVATION_TTL).
	ReservationTTL time.Duration
	Observer       Observer
	Log            *slog.Logger

	batches chan *Pending
	seq     atomic.Uint64
}

// errQuoteConflict is the message when a quote_id comes back with a different request.
const errQuoteConflict = "quote %q was already decided (decision %s) with a different request; a changed quote needs a new quote_id"

// Start runs the group-commit writers until ctx is done; Decide needs them.
func (s *Service) Start(ctx context.Context, writers, maxBatch int) {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	s.batches = make(chan *Pending, 4096)
	for i := 0; i < writers; i++ {
		go s.writer(ctx, maxBatch)
	}
}

// Decide decides a quote: the same quote sent again returns the logged decision (replayed true),
// the same quote_id with another request is a conflict. No decision is returned unless it is in
// the log.
func (s *Service) Decide(ctx context.Context, req Request, actor string) (d Decision, replayed bool, err error) {
	start := time.Now()
	if err := req.Validate(s.Currency); err != nil {
		return Decision{}, false, err
	}
	hash := req.Hash()
	now := time.Now().UTC().Truncate(time.Microsecond)
	today := ledger.DateFromTime(now)
	// A quote sent again is recognised at the group commit, under its lock: no read before.
	cc, err := s.clientContext(ctx, req.ClientID, today)
	client := cc.Client
	switch {
	case fault.Code(err) == fault.NotFound && req.Client != nil:
		if _, client, err = s.Clients.PutClient(ctx, req.prospect(), actor); err != nil {
			return Decision{}, false, prefixFields(err, "client.")
		}
		if cc, err = s.clientContext(ctx, client.ClientID, today); err != nil {
			return Decision{}, false, err
		}
	case fault.Code(err) == fault.NotFound:
		return Decision{}, false, fault.Validation("unknown client", fault.Field("client_id",
			"no client %q: register it first, or send its name and country in client to register a prospect", req.ClientID))
	case err != nil:
		return Decision{}, false, err
	}
	policy := s.Policies.Active()
	if policy == nil {
		return Decision{}, false, fault.Errorf(fault.Unavailable, "no policy is loaded")
	}
	in := Input{Now: now, Today: today, Quote: Quote{QuoteID: req.QuoteID, Amount: req.Amount, Currency: req.Currency,
		RequestedTermsDays: req.RequestedTermsDays, EndOfMonth: req.EndOfMonth, OpenOrdersAmount: req.OpenOrdersAmount},
		Client: clientInput(client)}
	if err := s.gather(ctx, &in, client.ClientID); err != nil {
		return Decision{}, false, err
	}
	in.Sanctions, in.Solvency = cc.Sanctions, cc.Solvency
	p := &Pending{Input: in, policy: policy, done: make(chan error, 1)}
	p.Entry = LogEntry{RequestHash: hash, Decision: Decision{
		DecisionID: s.newID(now), QuoteID: req.QuoteID, ClientID: client.ClientID, Amount: req.Amount,
		PolicyVersion: policy.Version, PolicyHash: policy.Engine.Hash(), DecidedAt: now,
		ExpiresAt: now.Add(s.ReservationTTL), RequestedBy: actor,
		Score: ScoreSummary{Value: in.Score.Value, RiskClass: in.Score.RiskClass, PD: in.Score.PD, ModelVersion: in.Score.ModelVersion},
	}}
	// The policy runs at the group commit, under the client's lock, on the exposure read there:
	// concurrent quotes of one client are decided one after the other.
	select {
	case s.batches <- p:
	case <-ctx.Done():
		return Decision{}, false, unavailable("the decision log is saturated", ctx.Err())
	}
	select {
	case err = <-p.done:
	case <-ctx.Done():
		// The batch may still commit; the caller can send the quote again and get it.
		return Decision{}, false, unavailable("the decision was not confirmed in time", ctx.Err())
	}
	if err != nil {
		return Decision{}, false, unavailable("the decision could not be logged, so none was made", err)
	}
	if p.Duplicate != nil {
		return s.replay(p.Duplicate, hash)
	}
	d = p.Entry.Decision
	d.Latency.TotalMicros = time.Since(start).Microseconds()
	if s.Observer.Decided != nil {
		s.Observer.Decided(d.Outcome, time.Duration(d.Latency.EvalMicros)*time.Microsecond, time.Since(start))
	}
	return d, false, nil
}

func (s *Service) replay(prev *LogEntry, hash string) (Decision, bool, error) {
	if prev.RequestHash != hash {
		return Decision{}, false, fault.Errorf(fault.Conflict, errQuoteConflict, prev.QuoteID, prev.DecisionID)
	}
	return prev.Decision, true, nil
}

// gather reads the client's score and the metrics behind it.
func (s *Service) gather(ctx context.Context, in *Input, clientID string) error {
	sc, err := s.Scores.DecisionScore(ctx, clientID)
	if err != nil {
		return fmt.Errorf("score of %s: %w", clientID, err)
	}
	in.Score, in.Metrics, in.Client.IsNew = sc.Score, sc.Metrics, !sc.HasInvoices
	return nil
}

// clientContext reads the client, its screening and its solvency: through Context when set
// (cached), else one source after the other. A screening or solvency that cannot be read is not
// an answer: the decision gets not_screened (reviewed) and no solvency data (stale).
func (s *Service) clientContext(ctx context.Context, clientID string, today ledger.Date) (ClientContext, error) {
	if s.Context != nil {
		return s.Context.DecisionContext(ctx, clientID, today)
	}
	return ReadClientContext(ctx, s.Clients, s.Sanctions, s.Solvency, s.Log, clientID, today)
}

// ReadClientContext reads a client's decision context from its three sources.
func ReadClientContext(ctx context.Context, clients Clients, sanctions SanctionsSource, solvency SolvencySource, log *slog.Logger,
	clientID string, today ledger.Date) (ClientContext, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := clients.GetClient(ctx, clientID)
	if err != nil {
		return ClientContext{}, err
	}
	cc := ClientContext{Client: c, Sanctions: Sanctions{Status: SanctionsNotScreened},
		Solvency: Solvency{CompanyStatus: CompanyUnknown, Stale: true}}
	if sanctions != nil {
		if sc, err := sanctions.DecisionSanctions(ctx, clientID); err != nil {
			log.WarnContext(ctx, "sanctions status unavailable for a decision", "client_id", clientID, "err", err)
		} else {
			cc.Sanctions = sc
		}
	}
	if solvency != nil {
		if sv, err := solvency.DecisionSolvency(ctx, clientID, today); err != nil {
			log.WarnContext(ctx, "solvency unavailable for a decision", "client_id", clientID, "err", err)
		} else {
			cc.Solvency = sv
		}
	}
	return cc, nil
}

// evaluate runs the policy on the input with exposure base and fills the entry's result.
func (s *Service) evaluate(ctx context.Context, p *Pending, base ExposureBase) {
	p.Input.Exposure = Exposure{OpenAR: base.OpenAR, Overdue: base.Overdue, Reserved: base.Reserved,
		OpenOrders: p.Input.Quote.OpenOrdersAmount, Total: base.OpenAR + base.Reserved + p.Input.Quote.OpenOrdersAmount}
	t := time.Now()
	r := p.policy.Engine.Evaluate(ctx, &p.Input)
	p.Entry.Latency.EvalMicros += time.Since(t).Microseconds()
	p.result = r
	e := &p.Entry
	e.Outcome, e.CreditLimit, e.PaymentTerms, e.Reasons = r.Outcome, r.CreditLimit, r.PaymentTerms, r.Reasons
	e.Exposure = p.Input.Exposure
	e.Failure = ""
	p.Reserve = 0
	if r.Outcome == OutcomeApprove {
		p.Reserve = p.Input.Quote.Amount
	}
	e.Headroom = headroom(r.CreditLimit, e.Exposure, p.Reserve)
	if r.Err != nil {
		e.Failure = r.Err.Error()
		s.Log.ErrorContext(ctx, "policy evaluation failed: the quote goes to review", "quote_id", e.QuoteID,
			"policy_version", p.policy.Version, "kind", FailureKind(r.Err), "err", r.Err)
		if s.Observer.FailSafe != nil {
			s.Observer.FailSafe(FailureKind(r.Err))
		}
	}
}

// decideInBatch evaluates a pending decision on its client's exposure, read under the client's
// lock (a retried batch evaluates again, with the exposure it reads then).
func (s *Service) decideInBatch(p *Pending, fresh ExposureBase) ledger.Money {
	p.Base = fresh
	p.Entry.Latency.EvalMicros = 0
	s.evaluate(context.Background(), p, fresh)
	if p.Reserve > 0 {
		exp := p.Entry.ExpiresAt
		p.Entry.Reservation = &Reservation{Amount: p.Reserve, Status: ReservationActive, ExpiresAt: exp}
	} else {
		p.Entry.Reservation = nil
	}
	return p.Reserve
}

// writer forms batches from what is waiting and commits each in one transaction.
func (s *Service) writer(ctx context.Context, maxBatch int) {
	for {
		var first *Pending
		select {
		case <-ctx.Done():
			return
		case first = <-s.batches:
		}
		batch := []*Pending{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-s.batches:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		t := time.Now()
		err := s.Store.CommitBatch(context.WithoutCancel(ctx), batch, s.decideInBatch)
		if s.Observer.Batch != nil {
			s.Observer.Batch(len(batch), time.Since(t))
		}
		if err != nil {
			s.Log.Error("decision batch not logged: its decisions are refused", "size", len(batch), "err", err)
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// newID makes a time-ordered decision id: dec_ + the decision time + a per-process sequence and
// random suffix, unique across replicas.
func (s *Service) newID(now time.Time) string {
	return fmt.Sprintf("dec_%s_%s", now.Format("20060102T150405.000000Z"), randomSuffix(s.seq.Add(1)))
}

func clientInput(c ledger.Client) Client {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return Client{ClientID: c.ClientID, Name: c.Name, RegistrationID: opt(c.RegistrationID), Country: opt(c.Country), Sector: opt(c.Sector)}
}

func unavailable(msg string, err error) error {
	return &fault.Error{Code: fault.Unavailable, Message: msg, Err: err}
}

// prefixFields renames a validation error's fields (a prospect's name becomes client.name).
func prefixFields(err error, prefix string) error {
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Fields) == 0 {
		return err
	}
	out := *fe
	out.Fields = nil
	for _, f := range fe.Fields {
		if f.Field == "client_id" {
			out.Fields = append(out.Fields, f)
			continue
		}
		f.Field = prefix + f.Field
		out.Fields = append(out.Fields, f)
	}
	return &out
}
