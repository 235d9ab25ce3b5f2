package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/policy"
	"github.com/credorisk/credo/internal/policy/policytest"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/policies"
)

// MustBootstrappedPolicies opens a fresh database holding the embedded policy as version 1.
func MustBootstrappedPolicies(t testing.TB) (*postgres.DB, *postgres.Policies) {
	t.Helper()
	db := pgtest.MustDB(t)
	store := postgres.NewPolicies(db)
	if _, err := policy.Bootstrap(context.Background(), store, policies.FS); err != nil {
		t.Fatal(err)
	}
	return db, store
}

func MustDraft(t testing.TB, store *postgres.Policies, parent *int, author string) policy.Version {
	t.Helper()
	ctx := context.Background()
	one, err := store.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.Create(ctx, policy.Version{Parent: parent, Modules: one.Modules, Data: one.Data, Hash: one.Hash,
		Author: author, Comment: "a draft", Files: one.Files})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPolicyBootstrapOnceAcrossReplicas(t *testing.T) {
	db := pgtest.MustDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	created := make([]bool, 6)
	errs := make([]error, 6)
	for i := range created {
		wg.Go(func() { created[i], errs[i] = policy.Bootstrap(ctx, postgres.NewPolicies(db), policies.FS) })
	}
	wg.Wait()
	n := 0
	for i := range created {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d bootstraps stored version 1, want exactly 1", n)
	}
	store := postgres.NewPolicies(db)
	v, err := store.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	modules, data, err := decision.ReadSource(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := decision.ContentHash(modules, data)
	if v.Status != policy.StatusActive || v.Author != policy.BootstrapAuthor || v.Hash != hash || v.ActivatedAt == nil {
		t.Fatalf("version 1 = %+v, want active, by %s, hash %s, with its activation", v, policy.BootstrapAuthor, hash)
	}
	// What is stored hashes to what was recorded: modules and data round-trip exactly.
	if got, _ := decision.ContentHash(v.Modules, v.Data); got != v.Hash {
		t.Fatalf("stored content hashes to %s, recorded %s", got, v.Hash)
	}
	ref, err := store.ActiveRef(ctx)
	if err != nil || ref != (policy.Ref{Version: 1, Hash: hash}) {
		t.Fatalf("ActiveRef = %+v, %v", ref, err)
	}
}

func TestPolicyVersionsAreNumberedWithoutGaps(t *testing.T) {
	_, store := MustBootstrappedPolicies(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { MustDraft(t, store, nil, "cm") })
	}
	wg.Wait()
	list, err := store.List(ctx, policy.ListFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, v := range list {
		got = append(got, v.Version)
		if v.Modules != nil || v.Data != nil || len(v.Files) != 2 {
			t.Fatalf("listing holds modules or data, or lacks files: %+v", v)
		}
	}
	if want := []int{9, 8, 7, 6, 5, 4, 3, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	page, err := store.List(ctx, policy.ListFilter{Before: 4, Limit: 2, Status: policy.StatusDraft})
	if err != nil || len(page) != 2 || page[0].Version != 3 || page[1].Version != 2 {
		t.Fatalf("page before 4 = %+v, %v", page, err)
	}
}

func TestPolicyVersionsAreImmutable(t *testing.T) {
	db, store := MustBootstrappedPolicies(t)
	two := MustDraft(t, store, new(int(1)), "cm")
	ctx := context.Background()
	for _, q := range []string{
		`UPDATE policy_versions SET modules = '{}' WHERE version = 2`,
		`UPDATE policy_versions SET data = '{}' WHERE version = 2`,
		`UPDATE policy_versions SET comment = 'edited' WHERE version = 2`,
		`UPDATE policy_versions SET author = 'someone else' WHERE version = 2`,
		`UPDATE policy_versions SET hash = 'sha256:' || repeat('0', 64) WHERE version = 2`,
		`UPDATE policy_versions SET parent = NULL WHERE version = 2`,
		`UPDATE policy_versions SET created_at = now() - interval '1 day' WHERE version = 2`,
		`UPDATE policy_versions SET status = 'retired' WHERE version = 2`, // a draft was never active
		`DELETE FROM policy_versions WHERE version = 2`,
		`TRUNCATE policy_versions CASCADE`,
		`UPDATE policy_activations SET activated_by = 'x'`,
		`DELETE FROM policy_activations`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err == nil {
			t.Errorf("%s: accepted, want refused", q)
		}
	}
	got, err := store.Get(ctx, 2)
	if err != nil || got.Hash != two.Hash || got.Comment != two.Comment || *got.Parent != 1 {
		t.Fatalf("version 2 changed: %+v, %v", got, err)
	}
}

func TestPolicyActivateRetiresThePreviousAndRollsBack(t *testing.T) {
	_, store := MustBootstrappedPolicies(t)
	ctx := context.Background()
	MustDraft(t, store, new(int(1)), "alice")
	steps := []struct {
		version, previous int
		code              string
	}{
		{2, 1, ""},
		{2, 0, fault.Conflict}, // already active
		{1, 2, ""},             // rollback
		{3, 0, fault.NotFound},
		{2, 1, ""}, // forward again
	}
	for _, s := range steps {
		prev, err := store.Activate(ctx, policy.Activation{Version: s.version, Actor: "bob", Comment: "go"})
		if s.code != "" {
			if fault.Code(err) != s.code {
				t.Fatalf("activate %d: %v, want %s", s.version, err, s.code)
			}
			continue
		}
		if err != nil || prev != s.previous {
			t.Fatalf("activate %d: previous %d, %v; want %d", s.version, prev, err, s.previous)
		}
		ref, _ := store.ActiveRef(ctx)
		if ref.Version != s.version {
			t.Fatalf("active %d after activating %d", ref.Version, s.version)
		}
	}
	one, _ := store.Get(ctx, 1)
	two, _ := store.Get(ctx, 2)
	if one.Status != policy.StatusRetired || two.Status != policy.StatusActive || two.ActivatedBy != "bob" {
		t.Fatalf("statuses: v1 %s, v2 %s by %q", one.Status, two.Status, two.ActivatedBy)
	}
}

func TestPolicyStepsAreAudited(t *testing.T) {
	db, store := MustBootstrappedPolicies(t)
	ctx := context.Background()
	MustDraft(t, store, new(int(1)), "alice")
	if _, err := store.Activate(ctx, policy.Activation{Version: 2, Actor: "bob", Comment: "ship it", Detail: map[string]any{"rollback": false}}); err != nil {
		t.Fatal(err)
	}
	if err := store.Audit(ctx, "carol", "policy.replay", 2, map[string]any{"evaluated": 3}); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT actor, action, target_id, detail FROM audit_log WHERE target_type = 'policy' ORDER BY audit_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var actor, action, target string
		var detail map[string]any
		if err := rows.Scan(&actor, &action, &target, &detail); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s", actor, action, target))
		if action == "policy.activate" && (detail["comment"] != "ship it" || detail["previous"] != float64(1)) {
			t.Errorf("activation detail %v", detail)
		}
	}
	want := []string{"credo policy.bootstrap 1", "alice policy.create 2", "bob policy.activate 2", "carol policy.replay 2"}
	if !slices.Equal(got, want) {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

func TestPolicyLoggedStreamsTheWindowInOrder(t *testing.T) {
	db, store := MustBootstrappedPolicies(t)
	ctx := context.Background()
	// The replay options: evaluations on a busy machine must not pass the serving deadline.
	engines := policy.NewEngines(store, policy.ReplayOptions(decision.Options{}), 0)
	pol, err := engines.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	pf := policytest.NewPortfolio(7)
	if err := pf.Seed(ctx, postgres.NewDecisions(db), pol, 0, 300, start, time.Minute); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		limit    int
		first    int
		n        int
	}{
		{"all", start, start.Add(300 * time.Minute), 0, 0, 300},
		{"window is half open", start.Add(10 * time.Minute), start.Add(20 * time.Minute), 0, 10, 10},
		{"limit takes the oldest", start.Add(100 * time.Minute), start.Add(time.Hour * 24), 25, 100, 25},
		{"empty", start.Add(-time.Hour), start, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []policy.Logged
			err := store.Logged(ctx, tc.from, tc.to, tc.limit, func(l policy.Logged) error {
				got = append(got, l)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n {
				t.Fatalf("%d decisions, want %d", len(got), tc.n)
			}
			for j, l := range got {
				i := tc.first + j
				in := pf.Input(i, start.Add(time.Duration(i)*time.Minute))
				if l.QuoteID != in.Quote.QuoteID || !l.DecidedAt.Equal(in.Now) || l.PolicyVersion != 1 {
					t.Fatalf("decision %d: %s at %s, want %s at %s", j, l.QuoteID, l.DecidedAt, in.Quote.QuoteID, in.Now)
				}
				r := pol.Engine.Evaluate(ctx, &in)
				var reasons []decision.Reason
				if err := json.Unmarshal(l.Reasons, &reasons); err != nil {
					t.Fatal(err)
				}
				if l.Outcome != string(r.Outcome) || l.CreditLimit != r.CreditLimit || l.NetDays != r.PaymentTerms.NetDays ||
					l.EndOfMonth != r.PaymentTerms.EndOfMonth || l.Deposit != r.PaymentTerms.DepositPercent || len(reasons) != len(r.Reasons) {
					t.Fatalf("decision %s read back as %+v, decided %+v", l.QuoteID, l, r)
				}
				// The logged input replays to the logged answer.
				if again := pol.Engine.EvaluateJSON(ctx, l.Input); again.Outcome != r.Outcome || again.CreditLimit != r.CreditLimit {
					t.Fatalf("decision %s replays to %s %s, was %s %s", l.QuoteID, again.Outcome, again.CreditLimit, r.Outcome, r.CreditLimit)
				}
			}
		})
	}
	stop := fmt.Errorf("enough")
	n := 0
	err = store.Logged(ctx, start, start.Add(time.Hour*24), 0, func(policy.Logged) error {
		if n++; n == 5 {
			return stop
		}
		return nil
	})
	if err != stop || n != 5 {
		t.Fatalf("stopping at 5: %v after %d", err, n)
	}
}
