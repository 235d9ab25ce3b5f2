package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
	"github.com/credorisk/credo/internal/policy/policytest"
	"github.com/credorisk/credo/internal/postgres"
)

// replayReport is a replay as the API answers it.
type replayReport struct {
	Evaluated, Changed, FailSafe int
	Transitions                  map[string]int
	Outcomes                     struct{ Logged, Replayed map[string]int }
	LimitDelta                   ledger.Money `json:"limit_delta"`
	Sample                       []struct {
		DecisionID string `json:"decision_id"`
		Logged     struct{ Outcome string }
		Replayed   struct{ Outcome string }
	}
}

// loggedRow is a decision read straight from the log table.
type loggedRow struct {
	id, outcome string
	limit       ledger.Money
	answer      decision.Decision
	input       []byte
}

func MustLoggedRows(t *testing.T, db *postgres.DB, from, to time.Time) []loggedRow {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT decision_id, outcome, (credit_limit * 100)::bigint, decision, input::text
		FROM decisions WHERE decided_at >= $1 AND decided_at < $2 ORDER BY decided_at, decision_id`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []loggedRow
	for rows.Next() {
		var r loggedRow
		var answer []byte
		if err := rows.Scan(&r.id, &r.outcome, &r.limit, &answer, &r.input); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(answer, &r.answer); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func reasonCodes(rs []decision.Reason) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Code)
	}
	slices.Sort(out)
	return out
}

func TestPolicyReplayMatchesOneByOne(t *testing.T) {
	s := startServer(t, nil)
	cm, admin := s.Keys["credit_manager"], s.Keys["admin"]
	db := MustPolicyDB(t, s)
	ctx := context.Background()

	// A decision history decided by version 1, as the decision service logs it.
	store := postgres.NewPolicies(db)
	v1, err := policy.NewEngines(store, policy.ReplayOptions(decision.Options{}), 0).Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if err := policytest.NewPortfolio(11).Seed(ctx, postgres.NewDecisions(db), v1, 0, 400, start, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	var v2 policyVersion
	s.expect(http.StatusCreated, req{Method: "POST", Path: "/v1/policies", Key: cm,
		Body: map[string]any{"parent": 1, "modules": map[string]any{"large.rego": largeQuoteRule}}}).JSON(t, &v2)

	// One by one: each logged input through version 2, compared with what was answered.
	eng, err := decision.Compile(ctx, s.policy(t, "/v1/policies/2").Modules, s.policy(t, "/v1/policies/2").Data, policy.ReplayOptions(decision.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	from, to := start, start.AddDate(0, 0, 1) // the first day: 288 decisions of 400
	rows := MustLoggedRows(t, db, from, to)
	want := replayReport{Transitions: map[string]int{}}
	want.Outcomes.Logged, want.Outcomes.Replayed = map[string]int{}, map[string]int{}
	var changedIDs []string
	for _, r := range rows {
		res := eng.EvaluateJSON(ctx, r.input)
		want.Evaluated++
		want.Outcomes.Logged[r.outcome]++
		want.Outcomes.Replayed[string(res.Outcome)]++
		want.LimitDelta += res.CreditLimit - r.limit
		if res.FailSafe() {
			want.FailSafe++
		}
		if string(res.Outcome) != r.outcome {
			want.Transitions[r.outcome+"->"+string(res.Outcome)]++
		}
		if string(res.Outcome) != r.outcome || res.CreditLimit != r.limit || res.PaymentTerms != r.answer.PaymentTerms ||
			!slices.Equal(reasonCodes(res.Reasons), reasonCodes(r.answer.Reasons)) {
			want.Changed++
			changedIDs = append(changedIDs, r.id)
		}
	}
	if want.Evaluated != 288 || want.Transitions["approve->review"] == 0 || want.Changed <= want.Transitions["approve->review"] {
		t.Fatalf("the seeded history does not exercise replay: %+v", want)
	}

	var before, after int
	count := func(dst *int) {
		if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM decisions) + (SELECT count(*) FROM reservations)`).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	count(&before)
	var got replayReport
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/policies/2/replay", Key: admin,
		Body: map[string]any{"from": "2026-02-01", "to": "2026-02-01", "sample_size": 5}}).JSON(t, &got)
	count(&after)
	if before != after {
		t.Fatalf("the replay wrote to the decision log: %d rows, then %d", before, after)
	}
	if got.Evaluated != want.Evaluated || got.Changed != want.Changed || got.FailSafe != want.FailSafe || got.LimitDelta != want.LimitDelta ||
		!maps.Equal(got.Transitions, want.Transitions) || !maps.Equal(got.Outcomes.Logged, want.Outcomes.Logged) || !maps.Equal(got.Outcomes.Replayed, want.Outcomes.Replayed) {
		t.Fatalf("replay %+v\none by one %+v", got, want)
	}
	var sampled []string
	for _, c := range got.Sample {
		sampled = append(sampled, c.DecisionID)
	}
	if !slices.Equal(sampled, changedIDs[:5]) {
		t.Fatalf("sample %v, want the first changed %v", sampled, changedIDs[:5])
	}

	// The same version replayed on its own decisions changes nothing; a limit takes the oldest.
	got = replayReport{}
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/policies/1/replay", Key: cm,
		Body: map[string]any{"from": "2026-02-01T00:00:00Z", "to": "2026-02-03T00:00:00Z"}}).JSON(t, &got)
	if got.Evaluated != 400 || got.Changed != 0 || got.LimitDelta != 0 || len(got.Transitions) != 0 || len(got.Sample) != 0 {
		t.Fatalf("version 1 on its own decisions: %+v", got)
	}
	got = replayReport{}
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/policies/2/replay", Key: cm,
		Body: map[string]any{"from": "2026-02-01", "to": "2026-02-02", "limit": 10}}).JSON(t, &got)
	if got.Evaluated != 10 {
		t.Fatalf("limit 10: %d evaluated", got.Evaluated)
	}
}
