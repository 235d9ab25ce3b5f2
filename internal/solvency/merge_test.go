package solvency

import (
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

func TestStale(t *testing.T) {
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		fetched time.Time
		failed  bool
		maxAge  time.Duration
		want    bool
	}{
		{"fresh", now.Add(-24 * time.Hour), false, 0, false},
		{"exactly max age", now.Add(-DefaultMaxAge), false, 0, false},
		{"older than max age", now.Add(-DefaultMaxAge - time.Second), false, 0, true},
		{"fresh but the last fetch failed", now.Add(-time.Hour), true, 0, true},
		{"custom max age", now.Add(-48 * time.Hour), false, 24 * time.Hour, true},
		{"never fetched", time.Time{}, false, 0, true},
	}
	for _, tt := range tests {
		if got := Stale(Snapshot{FetchedAt: tt.fetched}, tt.failed, now, tt.maxAge); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	d := func(s string) *ledger.Date { v := MustDate(t, s); return &v }
	bodaccOpen := Snapshot{Provider: "bodacc", FetchedAt: now.Add(-2 * day), CompanyStatus: StatusUnknown,
		Insolvency: Insolvency{Open: true, Kind: KindLiquidation, JudgmentDate: d("2025-06-18")}}
	bodaccPlan := Snapshot{Provider: "bodacc", FetchedAt: now.Add(-2 * day), CompanyStatus: StatusUnknown,
		Insolvency: Insolvency{Plan: true, Kind: KindSafeguard, JudgmentDate: d("2023-11-20")}}
	bodaccNone := Snapshot{Provider: "bodacc", FetchedAt: now.Add(-1 * day), CompanyStatus: StatusUnknown}
	sireneActive := Snapshot{Provider: "sirene", FetchedAt: now.Add(-3 * day), CompanyStatus: StatusActive,
		CreationDate: d("2016-09-01"), LegalCategory: "5710", NAF: "62.01Z", SizeBand: "12"}
	sireneClosed := sireneActive
	sireneClosed.CompanyStatus = StatusClosed
	bureau := Snapshot{Provider: "bureau", FetchedAt: now.Add(-10 * day), CompanyStatus: StatusActive,
		Grade: ptr(4), RecommendedLimit: ptr(ledger.Money(60_000_00)), NegativeEquity: ptr(false),
		NegativeInformation: ptr(false), CreationDate: d("2011-05-16"), NAF: "6201Z"}
	bureauLiq := Snapshot{Provider: "bureau", FetchedAt: now.Add(-5 * day), CompanyStatus: StatusClosed,
		Insolvency: Insolvency{Open: true, Kind: KindLiquidation, Nature: "Liquidation judiciaire"}}
	csvNewer := Snapshot{Provider: "bureau_csv", FetchedAt: now.Add(-4 * day), CompanyStatus: StatusUnknown,
		Grade: ptr(7), NegativeEquity: ptr(true)}
	old := bureau
	old.FetchedAt = now.Add(-40 * day)

	tests := []struct {
		name      string
		in        []Latest
		status    string
		open      bool
		kind      string
		judged    string
		grade     *int
		limit     *ledger.Money
		negEquity *bool
		ageMonths *int
		naf       string
		asOf      time.Time
		stale     bool
		available bool
		sources   []string
	}{
		{name: "nothing known", in: nil, status: StatusUnknown, stale: true},
		{name: "all sources healthy", in: []Latest{{Snapshot: bureau}, {Snapshot: bodaccNone}, {Snapshot: sireneActive}},
			status: StatusActive, grade: ptr(4), limit: ptr(ledger.Money(60_000_00)), negEquity: ptr(false),
			ageMonths: ptr(105), naf: "62.01Z", asOf: bureau.FetchedAt, available: true,
			sources: []string{"bodacc", "sirene", "bureau"}},
		{name: "BODACC open liquidation wins over an active SIRENE", in: []Latest{{Snapshot: sireneActive}, {Snapshot: bodaccOpen}},
			status: StatusActive, open: true, kind: KindLiquidation, judged: "2025-06-18", ageMonths: ptr(105), naf: "62.01Z",
			asOf: sireneActive.FetchedAt, available: true, sources: []string{"bodacc", "sirene"}},
		{name: "BODACC's dated proceeding is preferred over the bureau's", in: []Latest{{Snapshot: bureauLiq}, {Snapshot: bodaccOpen}},
			status: StatusClosed, open: true, kind: KindLiquidation, judged: "2025-06-18",
			asOf: bureauLiq.FetchedAt, available: true, sources: []string{"bodacc", "bureau"}},
		{name: "a bureau's open proceeding beats a BODACC plan", in: []Latest{{Snapshot: bodaccPlan}, {Snapshot: bureauLiq}},
			status: StatusClosed, open: true, kind: KindLiquidation,
			asOf: bureauLiq.FetchedAt, available: true, sources: []string{"bodacc", "bureau"}},
		{name: "closed SIRENE status wins", in: []Latest{{Snapshot: sireneClosed}, {Snapshot: bureau}},
			status: StatusClosed, grade: ptr(4), limit: ptr(ledger.Money(60_000_00)), negEquity: ptr(false), ageMonths: ptr(105), naf: "62.01Z",
			asOf: bureau.FetchedAt, available: true, sources: []string{"sirene", "bureau"}},
		{name: "the freshest grade wins, the limit comes from where it is", in: []Latest{{Snapshot: bureau}, {Snapshot: csvNewer}},
			status: StatusActive, grade: ptr(7), limit: ptr(ledger.Money(60_000_00)), negEquity: ptr(true), ageMonths: ptr(169), naf: "6201Z",
			asOf: bureau.FetchedAt, available: true, sources: []string{"bureau_csv", "bureau"}},
		{name: "a failed refresh makes the view stale", in: []Latest{{Snapshot: bodaccNone}, {Snapshot: sireneActive, LastFetchFailed: true}},
			status: StatusActive, ageMonths: ptr(105), naf: "62.01Z", asOf: sireneActive.FetchedAt, stale: true, available: true,
			sources: []string{"bodacc", "sirene"}},
		{name: "an old snapshot makes the view stale and sets as_of", in: []Latest{{Snapshot: bodaccNone}, {Snapshot: old}},
			status: StatusActive, grade: ptr(4), limit: ptr(ledger.Money(60_000_00)), negEquity: ptr(false), ageMonths: ptr(169), naf: "6201Z",
			asOf: old.FetchedAt, stale: true, available: true, sources: []string{"bodacc", "bureau"}},
		{name: "only the latest of one provider counts", in: []Latest{{Snapshot: old}, {Snapshot: bureau}},
			status: StatusActive, grade: ptr(4), limit: ptr(ledger.Money(60_000_00)), negEquity: ptr(false), ageMonths: ptr(169), naf: "6201Z",
			asOf: bureau.FetchedAt, available: true, sources: []string{"bureau"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Merge(tt.in, now, 0)
			ins := v.Insolvency
			if v.CompanyStatus != tt.status || ins.Open != tt.open || ins.Kind != tt.kind {
				t.Errorf("status %q insolvency %+v, want %q open=%v kind %q", v.CompanyStatus, ins, tt.status, tt.open, tt.kind)
			}
			checkDate(t, "judgment_date", ins.JudgmentDate, tt.judged)
			for name, pair := range map[string][2]any{
				"grade": {v.Grade, tt.grade}, "limit": {v.RecommendedLimit, tt.limit}, "negative_equity": {v.NegativeEquity, tt.negEquity},
				"age": {v.CompanyAgeMonths, tt.ageMonths}, "sources": {v.Sources, tt.sources},
			} {
				if mustJSON(t, pair[0]) != mustJSON(t, pair[1]) {
					t.Errorf("%s = %s, want %s", name, mustJSON(t, pair[0]), mustJSON(t, pair[1]))
				}
			}
			if v.NAF != tt.naf || v.Stale != tt.stale || v.Available != tt.available {
				t.Errorf("naf %q stale %v available %v, want %q %v %v", v.NAF, v.Stale, v.Available, tt.naf, tt.stale, tt.available)
			}
			if (v.AsOf == nil) != tt.asOf.IsZero() || v.AsOf != nil && !v.AsOf.Equal(tt.asOf) {
				t.Errorf("as_of %v, want %v", v.AsOf, tt.asOf)
			}
		})
	}
}

func TestMonthsBetween(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2024-01-15", "2024-02-14", 0}, {"2024-01-15", "2024-02-15", 1}, {"2024-01-31", "2024-02-29", 1},
		{"2016-09-01", "2025-06-30", 105}, {"2025-07-01", "2025-06-30", 0}, {"2024-03-31", "2024-04-30", 1},
	}
	for _, tt := range tests {
		if got := monthsBetween(MustDate(t, tt.a), MustDate(t, tt.b)); got != tt.want {
			t.Errorf("%s..%s = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
