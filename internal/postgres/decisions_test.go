package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/policies"
)

// classScores gives every client a fixed class: the decision service's own tests need a score,
// not the scorer (tested on its own and end to end).
type classScores map[string]decision.RiskClass

func (c classScores) DecisionScore(_ context.Context, id string) (decision.ScoreInput, error) {
	class := c[id]
	if class == "" {
		class = decision.ClassC
	}
	return decision.ScoreInput{Score: decision.Score{Value: 600, RiskClass: class, PD: 0.02, ModelVersion: "test"}, HasInvoices: true}, nil
}

type clearScreening struct{}

func (clearScreening) DecisionSanctions(context.Context, string) (decision.Sanctions, error) {
	return decision.Sanctions{Status: decision.SanctionsClear}, nil
}

type fixedPolicy struct{ p *decision.Policy }

func (f fixedPolicy) Active() *decision.Policy { return f.p }

func mustDefaultPolicy(t testing.TB, timeout time.Duration) *decision.Policy {
	t.Helper()
	modules, data, err := decision.ReadSource(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	e, err := decision.Compile(context.Background(), modules, data, decision.Options{EvalTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return &decision.Policy{Version: 1, Engine: e}
}

func mustDecisions(t *testing.T, scores classScores, policy *decision.Policy, ttl time.Duration) (*decision.Service, *ledger.Service, *postgres.DB) {
	t.Helper()
	svc, db := mustLedger(t)
	ds := &decision.Service{Store: postgres.NewDecisions(db), Clients: svc, Scores: scores, Sanctions: clearScreening{},
		Policies: fixedPolicy{policy}, Currency: "EUR", ReservationTTL: ttl}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ds.Start(ctx, 2, 64)
	return ds, svc, db
}

func quote(id, client string, amount ledger.Money) decision.Request {
	return decision.Request{QuoteID: id, ClientID: client, Amount: amount, Currency: "EUR", RequestedTermsDays: 30}
}

// TestConcurrentQuotesNeverOverCommit sends 200 quotes at once for one client whose headroom fits
// 10 of them: exactly 10 are approved, the others go to review for the limit, and the reserved
// exposure never passes the limit.
func TestConcurrentQuotesNeverOverCommit(t *testing.T) {
	ds, led, db := mustDecisions(t, classScores{"C1": decision.ClassC}, mustDefaultPolicy(t, 5*time.Second), 30*24*time.Hour)
	ctx := context.Background()
	mustClient(t, led, "C1")
	const n = 200
	results := make(chan decision.Decision, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d, _, err := ds.Decide(ctx, quote(fmt.Sprintf("Q%03d", i), "C1", 750000), "crm") // 7,500.00 of a 75,000.00 limit
			if err != nil {
				errs <- err
				return
			}
			results <- d
		}(i)
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	approved, reviewed := 0, 0
	for d := range results {
		switch d.Outcome {
		case decision.OutcomeApprove:
			approved++
		case decision.OutcomeReview:
			reviewed++
			if !hasReason(d, "LIMIT_EXCEEDED") {
				t.Errorf("review without the limit reason: %+v", d.Reasons)
			}
		}
		if d.Exposure.Total+d.Amount > d.CreditLimit && d.Outcome == decision.OutcomeApprove {
			t.Errorf("approved over the limit: %+v", d)
		}
	}
	if approved != 10 || reviewed != 190 {
		t.Fatalf("approved %d, reviewed %d; want 10 and 190", approved, reviewed)
	}
	var reserved, logged int64
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(amount) * 100, 0)::bigint FROM reservations), (SELECT count(*) FROM decisions)`).Scan(&reserved, &logged); err != nil {
		t.Fatal(err)
	}
	if reserved != 7500000 || logged != n {
		t.Errorf("reserved %d (want 75,000.00), logged %d (want %d)", reserved, logged, n)
	}
}

func hasReason(d decision.Decision, code string) bool {
	for _, r := range d.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

func TestDecisionLifecycle(t *testing.T) {
	ds, led, db := mustDecisions(t, classScores{"C1": decision.ClassC}, mustDefaultPolicy(t, 5*time.Second), time.Second)
	ctx := context.Background()
	mustClient(t, led, "C1")

	// Idempotency and the conflict.
	d1, replayed, err := ds.Decide(ctx, quote("Q1", "C1", 4000000), "crm")
	if err != nil || replayed || d1.Outcome != decision.OutcomeApprove || d1.Reservation == nil || d1.Headroom != 3500000 {
		t.Fatalf("first decision: %+v replayed %v err %v", d1, replayed, err)
	}
	again, replayed, err := ds.Decide(ctx, quote("Q1", "C1", 4000000), "crm")
	if err != nil || !replayed || again.DecisionID != d1.DecisionID {
		t.Fatalf("same quote again: %s replayed %v err %v", again.DecisionID, replayed, err)
	}
	changed := quote("Q1", "C1", 4100000)
	if _, _, err := ds.Decide(ctx, changed, "crm"); fault.Code(err) != fault.Conflict {
		t.Fatalf("changed quote: %v, want a conflict", err)
	}
	// The reservation counts: 40,000 reserved, another 40,000 exceeds the 75,000 limit.
	d2, _, _ := ds.Decide(ctx, quote("Q2", "C1", 4000000), "crm")
	if d2.Outcome != decision.OutcomeReview || d2.Exposure.Reserved != 4000000 || !hasReason(d2, "LIMIT_EXCEEDED") {
		t.Fatalf("second quote: %+v", d2)
	}
	// Released, the headroom comes back.
	e, err := ds.Store.Release(ctx, d1.DecisionID, "crm")
	if err != nil || e.Reservation.Status != decision.ReservationReleased {
		t.Fatalf("release: %+v %v", e.Reservation, err)
	}
	if _, err := ds.Store.Release(ctx, d1.DecisionID, "crm"); err != nil {
		t.Errorf("releasing twice: %v", err)
	}
	if _, err := ds.Store.Release(ctx, d2.DecisionID, "crm"); fault.Code(err) != fault.Conflict {
		t.Errorf("releasing a review: %v", err)
	}
	d3, _, _ := ds.Decide(ctx, quote("Q3", "C1", 1000000), "crm")
	if d3.Outcome != decision.OutcomeApprove || d3.Exposure.Reserved != 0 {
		t.Fatalf("after release: %+v", d3)
	}
	// An invoice carrying the quote id consumes the reservation: it moves to open receivables.
	inv := ledger.Invoice{InvoiceID: "INV-Q3", ClientID: "C1", IssueDate: ledger.Today(), DueDate: ledger.Today().AddDays(30), Amount: 1000000, Currency: "EUR", QuoteID: "Q3"}
	if _, _, err := led.PutInvoice(ctx, inv, "erp"); err != nil {
		t.Fatal(err)
	}
	got, err := ds.Store.Get(ctx, d3.DecisionID)
	if err != nil || got.Reservation.Status != decision.ReservationConsumed || got.Reservation.ConsumedBy != "INV-Q3" {
		t.Fatalf("after the invoice: %+v %v", got.Reservation, err)
	}
	d4, _, _ := ds.Decide(ctx, quote("Q4", "C1", 100000), "crm")
	if d4.Exposure.Reserved != 0 || d4.Exposure.OpenAR != 1000000 {
		t.Errorf("exposure after consumption: %+v", d4.Exposure)
	}
	if _, err := ds.Store.Release(ctx, d3.DecisionID, "crm"); fault.Code(err) != fault.Conflict {
		t.Errorf("releasing a consumed reservation: %v", err)
	}
	// Reservations expire (TTL 1s here).
	time.Sleep(1100 * time.Millisecond)
	d5, _, _ := ds.Decide(ctx, quote("Q5", "C1", 100000), "crm")
	if d5.Exposure.Reserved != 0 {
		t.Errorf("expired reservations still count: %+v", d5.Exposure)
	}
	if e, _ := ds.Store.Get(ctx, d4.DecisionID); e.Reservation.Status != decision.ReservationExpired {
		t.Errorf("d4 reservation: %s, want expired", e.Reservation.Status)
	}
	// The log is append-only.
	if _, err := db.Pool.Exec(ctx, `UPDATE decisions SET outcome = 'approve' WHERE decision_id = $1`, d2.DecisionID); err == nil {
		t.Error("the decision log accepted an UPDATE")
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM decisions`); err == nil {
		t.Error("the decision log accepted a DELETE")
	}
	// Replaying every logged input through the same policy gives the logged results.
	list, _, err := ds.Store.List(ctx, decision.Filter{Limit: 100})
	if err != nil || len(list) != 5 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	engine := ds.Policies.Active().Engine
	for _, e := range list {
		r := engine.EvaluateJSON(ctx, e.Input)
		if r.Outcome != e.Outcome || r.CreditLimit != e.CreditLimit || r.PaymentTerms != e.PaymentTerms || fmt.Sprint(r.Reasons) != fmt.Sprint(e.Reasons) {
			t.Errorf("replay of %s: %+v, logged %s %s %+v %+v", e.QuoteID, r, e.Outcome, e.CreditLimit, e.PaymentTerms, e.Reasons)
		}
	}
}

func TestDecisionProspectsAndRefusals(t *testing.T) {
	ds, _, db := mustDecisions(t, classScores{}, mustDefaultPolicy(t, 5*time.Second), time.Hour)
	ctx := context.Background()
	_, _, err := ds.Decide(ctx, quote("Q1", "NEW", 100000), "crm")
	if fault.Code(err) != fault.Invalid {
		t.Fatalf("unknown client without client: %v", err)
	}
	req := quote("Q1", "NEW", 100000)
	req.Client = &decision.Prospect{Name: "Nouvelle SAS", Country: "FR", RegistrationID: "123"}
	if _, _, err := ds.Decide(ctx, req, "crm"); fault.Code(err) != fault.Invalid || !hasField(err, "client.registration_id") {
		t.Fatalf("bad prospect: %v", err)
	}
	req.Client.RegistrationID = "552100554"
	d, _, err := ds.Decide(ctx, req, "crm")
	if err != nil || d.ClientID != "NEW" {
		t.Fatalf("prospect: %+v %v", d, err)
	}
	var logged int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM decisions`).Scan(&logged)
	if logged != 1 {
		t.Errorf("%d decisions logged, want only the valid one", logged)
	}
	for _, bad := range []decision.Request{
		{QuoteID: "", ClientID: "NEW", Amount: 100, Currency: "EUR"},
		{QuoteID: "Q9", ClientID: "NEW", Amount: -100, Currency: "EUR"},
		{QuoteID: "Q9", ClientID: "NEW", Amount: decision.MaxQuoteAmount + 1, Currency: "EUR"},
		{QuoteID: "Q9", ClientID: "NEW", Amount: 100, Currency: "USD"},
		{QuoteID: "Q9", ClientID: "NEW", Amount: 100, Currency: "EUR", RequestedTermsDays: 366},
	} {
		if _, _, err := ds.Decide(ctx, bad, "crm"); fault.Code(err) != fault.Invalid {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
}

func hasField(err error, field string) bool {
	var fe *fault.Error
	if e, ok := err.(*fault.Error); ok {
		fe = e
	}
	if fe == nil {
		return false
	}
	for _, f := range fe.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// TestDecisionFailSafeAndLogFailure: a policy that loops past its deadline gives review with
// POLICY_ERROR, logged; when Postgres cannot take the record, no decision is returned.
func TestDecisionFailSafeAndLogFailure(t *testing.T) {
	looping := `package credo.credit
import rego.v1
decision := {"outcome": "approve", "credit_limit": 1, "payment_terms": {"net_days": 1, "end_of_month": false, "deposit_percent": 0}, "reasons": [{"code": "X", "message": "x"}]} if {
	count([x | some x in numbers.range(1, 100000000); x % 7 == 0]) > 0
}`
	e, err := decision.Compile(context.Background(), map[string]string{"loop.rego": looping}, []byte(`{}`), decision.Options{EvalTimeout: 20 * time.Millisecond, DataSchema: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	ds, led, db := mustDecisions(t, classScores{}, &decision.Policy{Version: 7, Engine: e}, time.Hour)
	ctx := context.Background()
	mustClient(t, led, "C1")
	d, _, err := ds.Decide(ctx, quote("Q1", "C1", 100000), "crm")
	if err != nil || d.Outcome != decision.OutcomeReview || !hasReason(d, decision.ReasonPolicyError) || d.PolicyVersion != 7 {
		t.Fatalf("looping policy: %+v %v", d, err)
	}
	logged, err := ds.Store.Get(ctx, d.DecisionID)
	if err != nil || logged.Failure == "" {
		t.Errorf("fail-safe not logged with its cause: %+v %v", logged.Failure, err)
	}
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE decisions RENAME TO decisions_gone`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ds.Decide(ctx, quote("Q2", "C1", 100000), "crm"); fault.Code(err) != fault.Unavailable {
		t.Errorf("with the log unavailable: %v, want unavailable (503)", err)
	}
}

// TestSameQuoteConcurrently sends one quote 20 times at once (a CRM retrying): one decision is
// logged and every caller gets it.
func TestSameQuoteConcurrently(t *testing.T) {
	ds, led, db := mustDecisions(t, classScores{"C1": decision.ClassB}, mustDefaultPolicy(t, 5*time.Second), time.Hour)
	ctx := context.Background()
	mustClient(t, led, "C1")
	var wg sync.WaitGroup
	ids := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, _, err := ds.Decide(ctx, quote("SAME", "C1", 500000), "crm")
			if err != nil {
				t.Error(err)
				return
			}
			ids <- d.DecisionID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]int{}
	for id := range ids {
		seen[id]++
	}
	var logged, reserved int
	_ = db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM decisions), (SELECT count(*) FROM reservations)`).Scan(&logged, &reserved)
	if len(seen) != 1 || logged != 1 || reserved != 1 {
		t.Errorf("answers %v, %d logged, %d reservations; want one decision", seen, logged, reserved)
	}
}
