package solvency

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// serviceClock is the service tests' time: after every fixture's dates.
var serviceClock = time.Date(2025, 2, 1, 9, 0, 0, 0, time.UTC)

// invalidations records the clients whose scores the service dropped.
type invalidations struct {
	mu  sync.Mutex
	ids []string
}

func (v *invalidations) add(_ context.Context, ids ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ids = append(v.ids, ids...)
}

func (v *invalidations) list() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.ids)
}

// MustService builds a service on an in-memory store and the world's providers; cfg may set
// anything but the store and providers.
func MustService(t *testing.T, w *world, store *memServiceStore, cfg ServiceConfig) (*Service, *invalidations) {
	t.Helper()
	inv := &invalidations{}
	cfg.Store, cfg.Invalidate = store, inv.add
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return serviceClock }
	}
	if cfg.Providers == nil {
		cfg.Providers = w.MustProviders(t, cfg.Now)
	}
	s, err := NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, inv
}

// MustRefresh refreshes a client and returns each provider's outcome by name.
func MustRefresh(t *testing.T, s *Service, clientID string) (RefreshReport, map[string]FetchOutcome) {
	t.Helper()
	rep, err := s.Refresh(context.Background(), clientID, "tester")
	if err != nil {
		t.Fatalf("refresh %s: %v", clientID, err)
	}
	out := map[string]FetchOutcome{}
	for _, o := range rep.Results {
		out[o.Provider] = o
	}
	return rep, out
}

func providerReport(rep Report, name string) ProviderReport {
	for _, p := range rep.Providers {
		if p.Provider == name {
			return p
		}
	}
	return ProviderReport{}
}

func TestServiceRefreshReadsEachProvider(t *testing.T) {
	tests := []struct {
		name, siren, bureau string
		outcomes            map[string]string
		status              string
		open                bool
		kind, judgment      string
		grade               *int
		limit               *ledger.Money
		ageMonths           *int
	}{
		{name: "open liquidation (BODACC)", siren: "812345676", bureau: "bureau_D.json",
			outcomes: map[string]string{"bodacc": OutcomeSaved, "sirene": OutcomeNotFound, "bureau": OutcomeSaved},
			status:   StatusActive, open: true, kind: KindLiquidation, judgment: "2024-06-18", grade: ptr(8), limit: ptr(ledger.Money(2_000_00)), ageMonths: ptr(164)},
		{name: "rectified opening: receivership, corrected date", siren: "798456125",
			outcomes: map[string]string{"bodacc": OutcomeSaved, "sirene": OutcomeNotFound, "bureau": OutcomeNotFound},
			status:   StatusUnknown, open: true, kind: KindReceivership, judgment: "2024-02-05"},
		{name: "cancelled and retracted openings", siren: "833120454",
			outcomes: map[string]string{"bodacc": OutcomeSaved, "sirene": OutcomeNotFound, "bureau": OutcomeNotFound},
			status:   StatusUnknown},
		{name: "closed company (SIRENE)", siren: "443061841", bureau: "bureau_C.json",
			outcomes: map[string]string{"bodacc": OutcomeSaved, "sirene": OutcomeSaved, "bureau": OutcomeSaved},
			status:   StatusClosed, grade: ptr(6), limit: ptr(ledger.Money(15_000_00)), ageMonths: ptr(363)},
		{name: "active company with a bureau grade", siren: "904123783", bureau: "bureau_B.json",
			outcomes: map[string]string{"bodacc": OutcomeSaved, "sirene": OutcomeSaved, "bureau": OutcomeSaved},
			status:   StatusActive, grade: ptr(4), limit: ptr(ledger.Money(60_000_00)), ageMonths: ptr(101)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := MustWorld(t)
			w.setBureau(tt.siren, tt.bureau)
			store := newMemServiceStore(Company{ClientID: "C-1", RegistrationID: tt.siren, Country: "FR"})
			s, inv := MustService(t, w, store, ServiceConfig{})
			rep, outcomes := MustRefresh(t, s, "C-1")
			for p, want := range tt.outcomes {
				if outcomes[p].Outcome != want {
					t.Errorf("%s: outcome %+v, want %s", p, outcomes[p], want)
				}
			}
			v := rep.Solvency.View
			if !v.Available || v.Stale || v.CompanyStatus != tt.status || v.Insolvency.Open != tt.open {
				t.Errorf("view %+v", v)
			}
			if tt.open && (v.Insolvency.Kind != tt.kind || v.Insolvency.JudgmentDate == nil || v.Insolvency.JudgmentDate.String() != tt.judgment) {
				t.Errorf("insolvency %+v, want %s of %s", v.Insolvency, tt.kind, tt.judgment)
			}
			if mustJSON(t, v.Grade) != mustJSON(t, tt.grade) || mustJSON(t, v.RecommendedLimit) != mustJSON(t, tt.limit) ||
				mustJSON(t, v.CompanyAgeMonths) != mustJSON(t, tt.ageMonths) {
				t.Errorf("grade %s limit %s age %s", mustJSON(t, v.Grade), mustJSON(t, v.RecommendedLimit), mustJSON(t, v.CompanyAgeMonths))
			}
			// What a decision reads is what the report shows, from storage.
			d, err := s.DecisionSolvency(context.Background(), "C-1", ledger.DateFromTime(serviceClock))
			if err != nil {
				t.Fatal(err)
			}
			if d.Insolvency.Open != tt.open || string(d.CompanyStatus) != tt.status || mustJSON(t, d.Grade) != mustJSON(t, tt.grade) {
				t.Errorf("decision input %+v", d)
			}
			if tt.open && (d.Insolvency.Kind == nil || *d.Insolvency.Kind != tt.kind) {
				t.Errorf("decision insolvency kind %v, want %s", d.Insolvency.Kind, tt.kind)
			}
			if got := inv.list(); len(got) == 0 || slices.ContainsFunc(got, func(id string) bool { return id != "C-1" }) {
				t.Errorf("invalidated %v, want C-1 once per stored snapshot", got)
			}
			for _, p := range rep.Solvency.Providers {
				if !p.Enabled || p.Snapshot == nil || p.Stale || p.AgeSeconds == nil || *p.AgeSeconds != 0 || p.Snapshot.Raw != nil {
					t.Errorf("provider report %+v", p)
				}
			}
		})
	}
}

func TestServiceBureauGrades(t *testing.T) {
	for fixture, grade := range map[string]*int{"bureau_A.json": ptr(1), "bureau_B.json": ptr(4), "bureau_C.json": ptr(6),
		"bureau_D.json": ptr(8), "bureau_E.json": nil} {
		t.Run(fixture, func(t *testing.T) {
			w := MustWorld(t)
			w.setBureau("904123783", fixture)
			store := newMemServiceStore(Company{ClientID: "C-1", RegistrationID: "904123783"})
			s, _ := MustService(t, w, store, ServiceConfig{})
			rep, _ := MustRefresh(t, s, "C-1")
			if mustJSON(t, rep.Solvency.View.Grade) != mustJSON(t, grade) {
				t.Errorf("grade %s, want %s", mustJSON(t, rep.Solvency.View.Grade), mustJSON(t, grade))
			}
			b := providerReport(rep.Solvency, "bureau").Snapshot
			if b == nil || mustJSON(t, b.Grade) != mustJSON(t, grade) || b.RawScore == "" || b.Scale == "" {
				t.Errorf("bureau snapshot %+v", b)
			}
		})
	}
}

func TestServiceFailureKeepsLastGoodSnapshot(t *testing.T) {
	tests := []struct {
		provider, mode string
		recovers       bool // the retries get the answer: a new snapshot, not a failure
		requests       int  // requests the failing refresh makes to the provider
	}{
		{provider: "bureau", mode: modeTimeout, requests: 3},
		{provider: "bureau", mode: mode500ThenOK, recovers: true, requests: 2},
		{provider: "sirene", mode: mode429RetryAfter, recovers: true, requests: 2},
		{provider: "bureau", mode: mode429TooLong, requests: 1},
		{provider: "bodacc", mode: modeMalformed, requests: 1},
		{provider: "bureau", mode: modeMalformed, requests: 1},
		{provider: "bodacc", mode: modeEndless, requests: 1},
		{provider: "sirene", mode: modeWrongType, requests: 1},
		{provider: "bureau", mode: modeServerDownHard, requests: 3},
	}
	for _, tt := range tests {
		t.Run(tt.provider+" "+tt.mode, func(t *testing.T) {
			w := MustWorld(t)
			store := newMemServiceStore(Company{ClientID: "C-1", RegistrationID: "904123783"})
			now := serviceClock
			s, _ := MustService(t, w, store, ServiceConfig{Now: func() time.Time { return now }})
			MustRefresh(t, s, "C-1")
			good := store.latest("C-1", tt.provider)
			if good == nil || good.snap == nil {
				t.Fatalf("no first snapshot from %s", tt.provider)
			}

			now = now.Add(time.Hour)
			w.fail(tt.provider, tt.mode)
			before := w.requests(tt.provider)
			rep, outcomes := MustRefresh(t, s, "C-1")
			if got := w.requests(tt.provider) - before; got != tt.requests {
				t.Errorf("%d requests to %s, want %d", got, tt.provider, tt.requests)
			}
			pr := providerReport(rep.Solvency, tt.provider)
			after := store.latest("C-1", tt.provider)
			if tt.recovers {
				if outcomes[tt.provider].Outcome != OutcomeSaved || pr.Stale || pr.LastFailure != nil || rep.Solvency.View.Stale {
					t.Fatalf("outcome %+v, report %+v", outcomes[tt.provider], pr)
				}
				if !after.snap.FetchedAt.Equal(now) {
					t.Errorf("snapshot fetched at %v, want %v", after.snap.FetchedAt, now)
				}
				return
			}
			if o := outcomes[tt.provider]; o.Outcome != OutcomeFailed || o.Error == "" {
				t.Errorf("outcome %+v, want failed with its error", o)
			}
			if mustJSON(t, after.snap) != mustJSON(t, good.snap) {
				t.Errorf("the failure replaced the last good snapshot:\n%s\nwas\n%s", mustJSON(t, after.snap), mustJSON(t, good.snap))
			}
			if !pr.Stale || pr.LastFailure == nil || !pr.LastFailure.At.Equal(now) || pr.Snapshot == nil || *pr.AgeSeconds != 3600 {
				t.Errorf("provider report %+v", pr)
			}
			if !rep.Solvency.View.Stale {
				t.Error("the view is not stale after a failed fetch")
			}
			d, err := s.DecisionSolvency(context.Background(), "C-1", ledger.DateFromTime(now))
			if err != nil || !d.Stale || !d.Available {
				t.Errorf("decision input %+v, %v: want available and stale", d, err)
			}

			// The next success clears the failure.
			now = now.Add(time.Hour)
			w.fail(tt.provider, "")
			rep, outcomes = MustRefresh(t, s, "C-1")
			if pr := providerReport(rep.Solvency, tt.provider); outcomes[tt.provider].Outcome != OutcomeSaved || pr.Stale || pr.LastFailure != nil || rep.Solvency.View.Stale {
				t.Errorf("after recovery: outcome %+v, report %+v", outcomes[tt.provider], pr)
			}
		})
	}
}

func TestServiceRefreshReportsOpenCircuitAndUnsupported(t *testing.T) {
	w := MustWorld(t)
	opts := fastOptions()
	opts.Breaker, opts.Now = BreakerOptions{Failures: 1, CoolDown: time.Hour}, func() time.Time { return serviceClock }
	bureau, err := NewBureau(w.bureauURL, "bureau-key", MustLoadExampleMapping(t), "EUR", opts)
	if err != nil {
		t.Fatal(err)
	}
	store := newMemServiceStore(Company{ClientID: "C-1", RegistrationID: "904123783"},
		Company{ClientID: "DE-1", RegistrationID: "DE811569869", Country: "DE"})
	s, _ := MustService(t, w, store, ServiceConfig{Providers: []Provider{bureau}})
	w.fail("bureau", modeServerDownHard)
	if _, o := MustRefresh(t, s, "C-1"); o["bureau"].Outcome != OutcomeFailed {
		t.Fatalf("first failure: %+v", o["bureau"])
	}
	before := w.requests("bureau")
	if _, o := MustRefresh(t, s, "C-1"); o["bureau"].Outcome != OutcomeCircuitOpen || o["bureau"].Error == "" {
		t.Errorf("open circuit: %+v", o["bureau"])
	}
	if w.requests("bureau") != before {
		t.Error("a provider whose circuit is open was called")
	}
	if _, o := MustRefresh(t, s, "DE-1"); o["bureau"].Outcome != OutcomeUnsupported {
		t.Errorf("German company: %+v", o["bureau"])
	}
	if _, err := s.Refresh(context.Background(), "nobody", "tester"); fault.Code(err) != fault.NotFound {
		t.Errorf("unknown client: %v", err)
	}
}

// TestServiceDecisionNeverCallsProviders: with every provider hanging, a decision's solvency is
// read from storage alone, and an unknown client is "no data", not an error.
func TestServiceDecisionNeverCallsProviders(t *testing.T) {
	w := MustWorld(t)
	store := newMemServiceStore(Company{ClientID: "C-1", RegistrationID: "812345676"})
	s, _ := MustService(t, w, store, ServiceConfig{})
	MustRefresh(t, s, "C-1")
	for _, p := range []string{"bodacc", "sirene", "bureau"} {
		w.fail(p, modeTimeout)
	}
	before := w.requests("bodacc") + w.requests("sirene") + w.requests("bureau")
	d, err := s.DecisionSolvency(context.Background(), "C-1", ledger.DateFromTime(serviceClock))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Available || d.Stale || !d.Insolvency.Open || d.AsOf == nil || d.AsOf.String() != "2025-02-01" {
		t.Errorf("decision input %+v", d)
	}
	if after := w.requests("bodacc") + w.requests("sirene") + w.requests("bureau"); after != before {
		t.Errorf("a decision made %d provider requests", after-before)
	}
	d, err = s.DecisionSolvency(context.Background(), "prospect", ledger.DateFromTime(serviceClock))
	if err != nil || d.Available || !d.Stale || d.CompanyStatus != decision.CompanyUnknown || d.Insolvency.Open {
		t.Errorf("unknown client: %+v, %v", d, err)
	}
}
