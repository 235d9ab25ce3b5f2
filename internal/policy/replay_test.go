package policy

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/policy/policytest"
)

// sliceLog is a DecisionLog over decisions in memory, in order.
type sliceLog struct {
	rows []Logged
	err  error // returned after the rows, as a connection lost mid-stream
}

func (l *sliceLog) Logged(ctx context.Context, from, to time.Time, limit int, fn func(Logged) error) error {
	n := 0
	for _, r := range l.rows {
		if r.DecidedAt.Before(from) || !r.DecidedAt.Before(to) {
			continue
		}
		if limit > 0 && n == limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		n++
	}
	return l.err
}

// MustHistory decides n generated quotes with the embedded policy, one a minute from start.
func MustHistory(t testing.TB, n int, start time.Time) []Logged {
	t.Helper()
	modules, data := MustEmbedded(t)
	// The replay deadline: a busy machine must not log fail-safe answers.
	eng, err := decision.Compile(context.Background(), modules, data, ReplayOptions(decision.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	pf := policytest.NewPortfolio(3)
	rows := make([]Logged, n)
	for i := range rows {
		in := pf.Input(i, start.Add(time.Duration(i)*time.Minute))
		r := eng.Evaluate(context.Background(), &in)
		doc, _ := json.Marshal(in)
		reasons, _ := json.Marshal(r.Reasons)
		rows[i] = Logged{DecisionID: in.Quote.QuoteID + "-d", QuoteID: in.Quote.QuoteID, ClientID: in.Client.ClientID, DecidedAt: in.Now,
			PolicyVersion: 1, Outcome: string(r.Outcome), CreditLimit: r.CreditLimit, NetDays: r.PaymentTerms.NetDays,
			EndOfMonth: r.PaymentTerms.EndOfMonth, Deposit: r.PaymentTerms.DepositPercent, Reasons: reasons, Input: doc}
	}
	return rows
}

func TestReplayDoesNotDependOnTheWorkers(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	log := &sliceLog{rows: MustHistory(t, 150, start)}
	modules, data := MustEmbedded(t)
	// A rule that fires often, so that few decisions (the race detector slows OPA tenfold) give
	// changes of every kind.
	modules["extra.rego"] = "package credo.credit\n\nreview_reasons contains {\"code\": \"LARGE_QUOTE\", \"message\": \"Large.\"} if input.quote.amount_cents > 2000000\n"
	eng, err := decision.Compile(context.Background(), modules, data, ReplayOptions(decision.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	req := ReplayRequest{From: start, To: start.Add(24 * time.Hour), SampleSize: 7}
	var first ReplayReport
	for _, workers := range []int{1, 3} {
		rep, err := ReplayLog(context.Background(), log, eng, req, workers)
		if err != nil {
			t.Fatal(err)
		}
		rep.DurationMS = 0
		if workers == 1 {
			first = rep
			if rep.Evaluated != 150 || rep.Changed == 0 || rep.Transitions["approve->review"] == 0 || len(rep.Sample) != 7 {
				t.Fatalf("one worker: %+v", rep)
			}
			for _, c := range rep.Sample {
				if c.Replayed.Outcome == c.Logged.Outcome && !slicesDiffer(c) {
					t.Fatalf("sampled decision %s did not change", c.DecisionID)
				}
			}
			continue
		}
		if !reflect.DeepEqual(rep, first) {
			t.Fatalf("%d workers: %+v\none worker: %+v", workers, rep, first)
		}
	}
	// The version that decided them changes nothing.
	same, _ := decision.Compile(context.Background(), MustEmbeddedModules(t), data, ReplayOptions(decision.Options{}))
	rep, err := ReplayLog(context.Background(), log, same, req, 0)
	if err != nil || rep.Changed != 0 || rep.Evaluated != 150 || rep.LimitDelta != 0 || len(rep.Sample) != 0 {
		t.Fatalf("the same version: %+v, %v", rep, err)
	}
}

func slicesDiffer(c ReplayChange) bool {
	return c.Logged.CreditLimit != c.Replayed.CreditLimit || c.Logged.PaymentTerms != c.Replayed.PaymentTerms ||
		!sameCodes(c.Logged.Reasons, c.Replayed.Reasons)
}

func MustEmbeddedModules(t testing.TB) map[string]string {
	t.Helper()
	m, _ := MustEmbedded(t)
	return m
}

func TestReplayFailures(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rows := MustHistory(t, 60, start)
	modules, data := MustEmbedded(t)
	eng, _ := decision.Compile(context.Background(), modules, data, decision.Options{})
	req := ReplayRequest{From: start, To: start.Add(24 * time.Hour)}
	lost := errors.New("connection lost")
	bad := append([]Logged(nil), rows...)
	bad[30].Reasons = json.RawMessage(`{"not": "a list"}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		log  *sliceLog
		want error
	}{
		{"the stream breaks", context.Background(), &sliceLog{rows: rows, err: lost}, lost},
		{"a logged answer cannot be read", context.Background(), &sliceLog{rows: bad}, nil},
		{"the caller gives up", ctx, &sliceLog{rows: rows}, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := ReplayLog(tc.ctx, tc.log, eng, req, 2)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("replay: %+v, %v; want an error (%v) and no counts", rep, err, tc.want)
			}
		})
	}
}

func TestReplayRequestValidation(t *testing.T) {
	svc, _, _ := MustService(t)
	svc.Decisions = &sliceLog{}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		req   ReplayRequest
		field string
	}{
		{"no from", ReplayRequest{To: t0}, "from"},
		{"no to", ReplayRequest{From: t0}, "to"},
		{"to before from", ReplayRequest{From: t0, To: t0.Add(-time.Hour)}, "to"},
		{"negative limit", ReplayRequest{From: t0, To: t0.Add(time.Hour), Limit: -1}, "limit"},
		{"sample too large", ReplayRequest{From: t0, To: t0.Add(time.Hour), SampleSize: MaxSampleSize + 1}, "sample_size"},
	}
	for _, tc := range tests {
		_, err := svc.Replay(context.Background(), 1, tc.req, "carol")
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.Invalid || fe.Fields[0].Field != tc.field {
			t.Errorf("%s: %v, want a validation error naming %s", tc.name, err, tc.field)
		}
	}
	svc.replaying.Lock()
	if _, err := svc.Replay(context.Background(), 1, ReplayRequest{From: t0, To: t0.Add(time.Hour)}, "carol"); fault.Code(err) != fault.Unavailable {
		t.Errorf("a second replay on the replica: %v, want unavailable", err)
	}
	svc.replaying.Unlock()
	if _, err := svc.Replay(context.Background(), 42, ReplayRequest{From: t0, To: t0.Add(time.Hour)}, "carol"); fault.Code(err) != fault.NotFound {
		t.Errorf("replay of a missing version: %v", err)
	}
	rep, err := svc.Replay(context.Background(), 1, ReplayRequest{From: t0, To: t0.Add(time.Hour)}, "carol")
	if err != nil || rep.Evaluated != 0 || rep.Version != 1 || rep.Sample == nil || rep.Transitions == nil {
		t.Fatalf("an empty window: %+v, %v", rep, err)
	}
}
