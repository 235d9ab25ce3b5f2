package solvency

import (
	"context"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
)

func TestDecisionInput(t *testing.T) {
	judged := MustDate(t, "2024-06-18")
	closedOn := MustDate(t, "2021-04-27")
	asOf := time.Date(2025, 1, 31, 23, 30, 0, 0, time.UTC)
	limit := ledger.Money(60_000_00)
	tests := []struct {
		name string
		view View
		want decision.Solvency
	}{
		{name: "nothing known", view: View{CompanyStatus: StatusUnknown, Stale: true},
			want: decision.Solvency{CompanyStatus: decision.CompanyUnknown, Stale: true}},
		{name: "open liquidation", view: View{Available: true, CompanyStatus: StatusActive, AsOf: &asOf, Grade: ptr(8), RecommendedLimit: &limit,
			NegativeEquity: ptr(true), Insolvency: Insolvency{Open: true, Kind: KindLiquidation, JudgmentDate: &judged, Nature: "Jugement de conversion"}},
			want: decision.Solvency{Available: true, CompanyStatus: decision.CompanyActive, AsOf: ptr(MustDate(t, "2025-01-31")), Grade: ptr(8),
				RecommendedLimit: &limit, NegativeEquity: ptr(true),
				Insolvency: decision.Insolvency{Open: true, Kind: ptr(KindLiquidation), JudgmentDate: &judged}}},
		{name: "closed proceeding is history, not an open one", view: View{Available: true, Stale: true, CompanyStatus: StatusClosed,
			Insolvency: Insolvency{Kind: KindLiquidation, JudgmentDate: &judged, ClosedDate: &closedOn}},
			want: decision.Solvency{Available: true, Stale: true, CompanyStatus: decision.CompanyClosed}},
		{name: "plan adopted", view: View{Available: true, CompanyStatus: StatusActive, Insolvency: Insolvency{Kind: KindSafeguard, Plan: true, JudgmentDate: &judged}},
			want: decision.Solvency{Available: true, CompanyStatus: decision.CompanyActive}},
		{name: "open proceeding of unstated kind", view: View{Available: true, CompanyStatus: StatusUnknown, Insolvency: Insolvency{Open: true}},
			want: decision.Solvency{Available: true, CompanyStatus: decision.CompanyUnknown, Insolvency: decision.Insolvency{Open: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecisionInput(tt.view); mustJSON(t, got) != mustJSON(t, tt.want) {
				t.Errorf("got  %s\nwant %s", mustJSON(t, got), mustJSON(t, tt.want))
			}
		})
	}
}

// TestServiceReportListsEveryProvider: enabled providers never fetched appear with no snapshot
// (stale), imports and switched-off providers with enabled false; registers first.
func TestServiceReportListsEveryProvider(t *testing.T) {
	w := MustWorld(t)
	store := newMemServiceStore(Company{ClientID: "C-1", RegistrationID: "904123783"})
	MustStoreSnapshot(t, store, "C-1", "import", serviceClock.Add(-40*24*time.Hour))
	MustStoreSnapshot(t, store, "C-1", "bodacc", serviceClock.Add(-2*24*time.Hour))
	providers := w.MustProviders(t, func() time.Time { return serviceClock })
	s, _ := MustService(t, w, store, ServiceConfig{Providers: providers[:2]}) // bodacc and sirene
	rep, err := s.Report(context.Background(), "C-1", false)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Provider string
		Enabled  bool
		Snapshot bool
		Days     *int
		Stale    bool
	}
	var got []row
	for _, p := range rep.Providers {
		got = append(got, row{p.Provider, p.Enabled, p.Snapshot != nil, p.AgeDays, p.Stale})
	}
	want := []row{{"bodacc", true, true, ptr(2), false}, {"sirene", true, false, nil, true}, {"import", false, true, ptr(40), true}}
	if mustJSON(t, got) != mustJSON(t, want) {
		t.Errorf("providers %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
	}
	if !rep.View.Stale || rep.MaxAgeSeconds != int64(DefaultMaxAge/time.Second) || !rep.CheckedAt.Equal(serviceClock) {
		t.Errorf("report %+v", rep)
	}
	if _, err := s.Report(context.Background(), "nobody", false); err == nil {
		t.Error("a report of an unknown client")
	}
}

func TestServiceViews(t *testing.T) {
	store := newMemServiceStore(Company{ClientID: "A"}, Company{ClientID: "B"}, Company{ClientID: "C"})
	MustStoreSnapshot(t, store, "A", "import", serviceClock.Add(-time.Hour))
	MustStoreSnapshot(t, store, "B", "import", serviceClock.Add(-60*24*time.Hour))
	if err := store.RecordFailure(context.Background(), "C", "bureau", serviceClock, context.DeadlineExceeded); err != nil {
		t.Fatal(err)
	}
	s, _ := MustService(t, MustWorld(t), store, ServiceConfig{Providers: []Provider{}})
	views, err := s.Views(context.Background(), []string{"A", "B", "C", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 2 || views["A"].Stale || !views["B"].Stale || *views["A"].Grade != 5 {
		t.Errorf("views %s", mustJSON(t, views))
	}
	if v, ok, err := s.View(context.Background(), "C"); ok || err != nil || v.Available || v.Sources == nil {
		t.Errorf("a client with only a failure: %+v %v %v", v, ok, err)
	}
}
