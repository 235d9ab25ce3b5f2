package solvency

import (
	"slices"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// Stale reports whether decisions should distrust a snapshot: older than maxAge (0: DefaultMaxAge)
// or its provider's last fetch failed since, so the register may know more than we do.
func Stale(s Snapshot, lastFetchFailed bool, now time.Time, maxAge time.Duration) bool {
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	return lastFetchFailed || s.FetchedAt.IsZero() || now.Sub(s.FetchedAt) > maxAge
}

// Latest is a provider's latest snapshot for a client and whether the fetch after it failed.
type Latest struct {
	Snapshot        Snapshot `json:"snapshot"`
	LastFetchFailed bool     `json:"last_fetch_failed"`
}

// View is what scoring and policy read about a client's solvency (input.solvency in Rego).
type View struct {
	// Available is false when no provider has anything on the client yet.
	Available     bool       `json:"available"`
	CompanyStatus string     `json:"company_status"`
	Insolvency    Insolvency `json:"insolvency"`
	// NotFound is true when a register answered that it does not know the company.
	NotFound            bool          `json:"not_found"`
	Grade               *int          `json:"grade"`
	RecommendedLimit    *ledger.Money `json:"recommended_limit"`
	NegativeEquity      *bool         `json:"negative_equity"`
	NegativeInformation *bool         `json:"negative_information"`
	CompanyAgeMonths    *int          `json:"company_age_months"`
	LegalCategory       string        `json:"legal_category,omitempty"`
	NAF                 string        `json:"naf,omitempty"`
	SizeBand            string        `json:"size_band,omitempty"`
	// AsOf is the fetch time of the oldest snapshot used: the view is at least that fresh.
	AsOf *time.Time `json:"as_of"`
	// Stale is true when any snapshot used is stale, or none exists.
	Stale bool `json:"stale"`
	// Sources names the providers used, in precedence order.
	Sources []string `json:"sources"`
}

// providerRank orders providers for the fields where several may speak: the official registers
// first (BODACC for proceedings, SIRENE for identity), then bureaus.
func providerRank(name string) int {
	switch name {
	case "bodacc":
		return 0
	case "sirene":
		return 1
	}
	return 2
}

// Merge combines the latest snapshot per provider (if several of one provider are given, the
// most recent counts). Precedence, conservative where sources disagree:
//   - company status: closed if any source says closed; else active if any says active; else
//     unknown.
//   - insolvency: an open proceeding from any source wins over none; between open ones, BODACC's
//     (the official bulletin, with the judgment date), else the freshest source's. When none is
//     open, BODACC's closed or plan state is kept for explanations.
//   - grade, recommended limit, negative equity, negative information: the freshest snapshot
//     that has the value (a bureau API report and a CSV import are the same kind of information
//     at different dates).
//   - creation date (hence company age), legal category, NAF, size band: SIRENE first, else the
//     freshest source that has them.
//
// No snapshot at all gives Available=false and Stale=true: nothing is known, so decisions that
// care must treat it as unverified.
func Merge(latest []Latest, now time.Time, maxAge time.Duration) View {
	v := View{CompanyStatus: StatusUnknown, Stale: true}
	byProvider := map[string]Latest{}
	for _, l := range latest {
		if cur, ok := byProvider[l.Snapshot.Provider]; !ok || l.Snapshot.FetchedAt.After(cur.Snapshot.FetchedAt) {
			byProvider[l.Snapshot.Provider] = l
		}
	}
	if len(byProvider) == 0 {
		return v
	}
	ls := make([]Latest, 0, len(byProvider))
	for _, l := range byProvider {
		ls = append(ls, l)
	}
	// Precedence order: official registers first, then freshest first.
	slices.SortFunc(ls, func(a, b Latest) int {
		if ra, rb := providerRank(a.Snapshot.Provider), providerRank(b.Snapshot.Provider); ra != rb {
			return ra - rb
		}
		return b.Snapshot.FetchedAt.Compare(a.Snapshot.FetchedAt)
	})
	fresh := slices.Clone(ls)
	slices.SortStableFunc(fresh, func(a, b Latest) int { return b.Snapshot.FetchedAt.Compare(a.Snapshot.FetchedAt) })

	v.Available, v.Stale = true, false
	for _, l := range ls {
		s := l.Snapshot
		v.Sources = append(v.Sources, s.Provider)
		if Stale(s, l.LastFetchFailed, now, maxAge) {
			v.Stale = true
		}
		if v.AsOf == nil || s.FetchedAt.Before(*v.AsOf) {
			t := s.FetchedAt
			v.AsOf = &t
		}
		switch s.CompanyStatus {
		case StatusClosed:
			v.CompanyStatus = StatusClosed
		case StatusActive:
			if v.CompanyStatus == StatusUnknown {
				v.CompanyStatus = StatusActive
			}
		}
		v.NotFound = v.NotFound || s.NotFound
		v.Insolvency = mergeInsolvency(v.Insolvency, s.Insolvency)
	}
	for _, l := range fresh {
		s := l.Snapshot
		if v.Grade == nil && s.Grade != nil {
			g := *s.Grade
			v.Grade = &g
		}
		if v.RecommendedLimit == nil && s.RecommendedLimit != nil {
			m := *s.RecommendedLimit
			v.RecommendedLimit = &m
		}
		if v.NegativeEquity == nil && s.NegativeEquity != nil {
			b := *s.NegativeEquity
			v.NegativeEquity = &b
		}
		if v.NegativeInformation == nil && s.NegativeInformation != nil {
			b := *s.NegativeInformation
			v.NegativeInformation = &b
		}
	}
	// Identity fields: SIRENE first (ls puts it before bureaus), else the freshest.
	var created *ledger.Date
	for _, l := range preferSIRENE(ls, fresh) {
		s := l.Snapshot
		if created == nil && s.CreationDate != nil {
			created = s.CreationDate
		}
		if v.LegalCategory == "" {
			v.LegalCategory = s.LegalCategory
		}
		if v.NAF == "" {
			v.NAF = s.NAF
		}
		if v.SizeBand == "" {
			v.SizeBand = s.SizeBand
		}
	}
	if created != nil {
		months := monthsBetween(*created, ledger.DateFromTime(now))
		v.CompanyAgeMonths = &months
	}
	return v
}

// preferSIRENE lists the SIRENE snapshot first, then the others freshest first.
func preferSIRENE(ls, fresh []Latest) []Latest {
	out := make([]Latest, 0, len(fresh))
	for _, l := range ls {
		if l.Snapshot.Provider == "sirene" {
			out = append(out, l)
		}
	}
	for _, l := range fresh {
		if l.Snapshot.Provider != "sirene" {
			out = append(out, l)
		}
	}
	return out
}

// mergeInsolvency folds one more source's proceeding into the current one. Sources arrive in
// precedence order, so the first open one (BODACC's when it has one) is kept unless a later
// source has an open one and the current is not open.
func mergeInsolvency(cur, next Insolvency) Insolvency {
	switch {
	case cur.Open:
		return cur
	case next.Open:
		return next
	case cur.Known():
		return cur
	}
	return next
}

// monthsBetween counts whole calendar months from a to b (0 when b is before a).
func monthsBetween(a, b ledger.Date) int {
	if b < a {
		return 0
	}
	ya, ma, da := a.Parts()
	yb, mb, db := b.Parts()
	m := (yb-ya)*12 + int(mb) - int(ma)
	if db < da && b != b.MonthEnd() {
		m--
	}
	return max(m, 0)
}
