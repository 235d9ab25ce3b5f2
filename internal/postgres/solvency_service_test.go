package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/solvency"
)

// stubProvider answers every company at once with an active company of grade 3, and records the
// clients it was asked about with the time.
type stubProvider struct {
	name string
	mu   sync.Mutex
	asks []string
	at   []time.Time
}

func (p *stubProvider) Name() string { return p.name }

func (p *stubProvider) Fetch(_ context.Context, c solvency.Company) (solvency.Snapshot, error) {
	if _, err := c.SIREN(); err != nil {
		return solvency.Snapshot{}, err
	}
	p.mu.Lock()
	p.asks, p.at = append(p.asks, c.ClientID), append(p.at, time.Now())
	p.mu.Unlock()
	g := 3
	return solvency.Snapshot{Provider: p.name, ClientID: c.ClientID, FetchedAt: time.Now().UTC(), CompanyStatus: solvency.StatusActive, Grade: &g}, nil
}

func (p *stubProvider) asked() ([]string, []time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asks...), append([]time.Time(nil), p.at...)
}

// TestSolvencyWorkerOnPostgres runs the background refresh on the real store: never-fetched
// clients first, then snapshots past the maximum age oldest first, at the bounded rate; fresh
// snapshots and clients no provider covers are left alone.
func TestSolvencyWorkerOnPostgres(t *testing.T) {
	st, svc, _ := MustSolvencyClients(t, "OLD-1:904123783", "OLD-2:443061841", "FRESH:798456125", "NEW:833120454", "NOREG:")
	now := time.Now().UTC()
	for id, days := range map[string]int{"OLD-1": 31, "OLD-2": 60, "FRESH": 5} {
		MustSave(t, st, fetchInfo, solvency.Snapshot{Provider: "bureau", ClientID: id, FetchedAt: now.AddDate(0, 0, -days), CompanyStatus: solvency.StatusActive})
	}
	MustSolvencyClient(t, svc, "DE:DE811569869", "DE")
	p := &stubProvider{name: "bureau"}
	const perMinute = 600
	s, err := solvency.NewService(solvency.ServiceConfig{Store: st, Providers: []solvency.Provider{p}, PerMinute: perMinute, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	refreshed := func() bool {
		for _, id := range []string{"NEW", "OLD-1", "OLD-2"} {
			if v, _, err := s.View(context.Background(), id); err != nil || v.Stale {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); !refreshed() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	asks, at := p.asked()
	if got := strings.Join(asks, ","); got != "NEW,OLD-2,OLD-1" {
		t.Errorf("fetched %s, want NEW,OLD-2,OLD-1", got)
	}
	// One fetch per rate interval, checked over the run (slack for scheduling under -race).
	if len(at) > 1 {
		if span := at[len(at)-1].Sub(at[0]); span < time.Duration(len(at)-1)*(time.Minute/perMinute)-20*time.Millisecond {
			t.Errorf("%d fetches in %v, want at least %v between each", len(at), span, time.Minute/perMinute)
		}
	}
	for _, id := range []string{"NEW", "OLD-1", "OLD-2"} {
		if v, ok, err := s.View(context.Background(), id); err != nil || !ok || v.Stale || *v.Grade != 3 {
			t.Errorf("%s after the refresh: %+v %v %v", id, v, ok, err)
		}
	}
}

// TestSolvencyDecisionReadsStoredSnapshots: the decision service reads the stored view through
// DecisionSolvency: an open liquidation denies, a closed company denies, nothing known on a
// large quote goes to review, and an imported bureau limit below the class limit caps it.
func TestSolvencyDecisionReadsStoredSnapshots(t *testing.T) {
	ds, led, db := mustDecisions(t, classScores{}, mustDefaultPolicy(t, 5*time.Second), time.Hour)
	st := postgres.NewSolvency(db)
	sol, err := solvency.NewService(solvency.ServiceConfig{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ds.Solvency = sol
	today := time.Now().UTC()
	limit := ledger.Money(20_000_00)
	snaps := map[string]solvency.Snapshot{
		"LIQ": {Provider: "bodacc", CompanyStatus: solvency.StatusUnknown, Insolvency: solvency.Insolvency{Open: true, Kind: solvency.KindLiquidation}},
		"CLO": {Provider: "sirene", CompanyStatus: solvency.StatusClosed},
		"CAP": {Provider: "import", CompanyStatus: solvency.StatusActive, RecommendedLimit: &limit},
	}
	for _, id := range []string{"LIQ", "CLO", "CAP", "NONE"} {
		MustSolvencyClient(t, led, id+":", "FR")
		if s, ok := snaps[id]; ok {
			s.ClientID, s.FetchedAt = id, today
			MustSave(t, st, fetchInfo, s)
		}
	}
	tests := []struct {
		client  string
		amount  ledger.Money
		outcome decision.Outcome
		reason  string
	}{
		{"LIQ", 1000_00, decision.OutcomeDeny, "INSOLVENCY_OPEN"},
		{"CLO", 1000_00, decision.OutcomeDeny, "COMPANY_CLOSED"},
		{"NONE", 60_000_00, decision.OutcomeReview, "SOLVENCY_UNAVAILABLE"},
		{"CAP", 1000_00, decision.OutcomeApprove, "LIMIT_CAPPED_BY_BUREAU"},
	}
	for i, tt := range tests {
		t.Run(tt.client, func(t *testing.T) {
			d, _, err := ds.Decide(context.Background(), quote(fmt.Sprintf("Q-%d", i), tt.client, tt.amount), "crm")
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tt.outcome || !hasReason(d, tt.reason) {
				t.Errorf("outcome %s reasons %+v, want %s with %s", d.Outcome, d.Reasons, tt.outcome, tt.reason)
			}
			if tt.client == "CAP" && d.CreditLimit != limit {
				t.Errorf("credit limit %v, want the bureau's %v", d.CreditLimit, limit)
			}
		})
	}
}
