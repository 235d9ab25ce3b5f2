package solvency

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Report is what GET /v1/clients/{id}/solvency answers: every provider's latest snapshot with its
// age and freshness, and the merged view that scores and decisions read.
type Report struct {
	ClientID string `json:"client_id"`
	// CheckedAt is when ages and staleness were computed.
	CheckedAt time.Time `json:"checked_at"`
	// MaxAgeSeconds is the age past which a snapshot is stale (CREDO_SOLVENCY_MAX_AGE).
	MaxAgeSeconds int64            `json:"max_age_seconds"`
	Providers     []ProviderReport `json:"providers"`
	View          View             `json:"view"`
}

// ProviderReport is one provider's latest snapshot of the client.
type ProviderReport struct {
	Provider string `json:"provider"`
	// Enabled is true for a provider this server fetches from; imports and providers since
	// switched off are listed with false.
	Enabled bool `json:"enabled"`
	// Snapshot is nil when the provider never answered for the client's current company.
	Snapshot *Snapshot `json:"snapshot"`
	// AgeSeconds and AgeDays (whole days) are how old the snapshot is; nil without one.
	AgeSeconds *int64 `json:"age_seconds"`
	AgeDays    *int   `json:"age_days"`
	// Stale is true when the snapshot is older than the maximum age, its provider failed since,
	// or there is none.
	Stale       bool     `json:"stale"`
	LastFailure *Failure `json:"last_failure"`
}

// Failure is a failed fetch: when, and why.
type Failure struct {
	At    time.Time `json:"at"`
	Error string    `json:"error"`
}

// Report reads the client's snapshots (raw payloads when withRaw) and merges them. An unknown
// client is a fault NotFound error.
func (s *Service) Report(ctx context.Context, clientID string, withRaw bool) (Report, error) {
	states, err := s.store.States(ctx, clientID, withRaw)
	if err != nil {
		return Report{}, err
	}
	return s.report(clientID, states), nil
}

func (s *Service) report(clientID string, states []ProviderState) Report {
	now := s.now()
	rep := Report{ClientID: clientID, CheckedAt: now, MaxAgeSeconds: int64(s.cfg.MaxAge / time.Second),
		Providers: []ProviderReport{}, View: s.merge(states, now)}
	byName := map[string]ProviderState{}
	for _, st := range states {
		byName[st.Provider] = st
	}
	enabled := map[string]bool{}
	for _, p := range s.providers {
		enabled[p.Name()] = true
		if _, ok := byName[p.Name()]; !ok {
			byName[p.Name()] = ProviderState{Provider: p.Name()}
		}
	}
	for name, st := range byName {
		pr := ProviderReport{Provider: name, Enabled: enabled[name], Snapshot: st.Snapshot, Stale: true}
		if st.Snapshot != nil {
			age := now.Sub(st.Snapshot.FetchedAt)
			secs, days := int64(age/time.Second), int(age/(24*time.Hour))
			pr.AgeSeconds, pr.AgeDays = &secs, &days
			pr.Stale = Stale(*st.Snapshot, st.lastFetchFailed(), now, s.cfg.MaxAge)
		}
		if st.FailedAt != nil {
			pr.LastFailure = &Failure{At: st.FailedAt.UTC(), Error: st.Failure}
		}
		rep.Providers = append(rep.Providers, pr)
	}
	// Official registers first (as Merge ranks them), then by name.
	slices.SortFunc(rep.Providers, func(a, b ProviderReport) int {
		return cmp.Or(cmp.Compare(providerRank(a.Provider), providerRank(b.Provider)), cmp.Compare(a.Provider, b.Provider))
	})
	return rep
}

// merge is Merge over stored states; Sources is [] rather than null when nothing is known.
func (s *Service) merge(states []ProviderState, now time.Time) View {
	latest := make([]Latest, 0, len(states))
	for _, st := range states {
		if st.Snapshot != nil {
			latest = append(latest, Latest{Snapshot: *st.Snapshot, LastFetchFailed: st.lastFetchFailed()})
		}
	}
	v := Merge(latest, now, s.cfg.MaxAge)
	if v.Sources == nil {
		v.Sources = []string{}
	}
	return v
}

// View is the client's merged solvency view from storage (scoring's SolvencySource); ok is false
// when no provider has anything on the client's current company, or the client does not exist.
func (s *Service) View(ctx context.Context, clientID string) (View, bool, error) {
	states, err := s.store.States(ctx, clientID, false)
	if fault.Code(err) == fault.NotFound {
		return s.merge(nil, s.now()), false, nil
	}
	if err != nil {
		return View{}, false, err
	}
	v := s.merge(states, s.now())
	return v, v.Available, nil
}

// Views is View for many clients in one read (scoring's SolvencyBatchSource); clients without a
// view are absent.
func (s *Service) Views(ctx context.Context, clientIDs []string) (map[string]View, error) {
	byClient, err := s.store.StatesByClient(ctx, clientIDs)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make(map[string]View, len(byClient))
	for id, states := range byClient {
		if v := s.merge(states, now); v.Available {
			out[id] = v
		}
	}
	return out, nil
}

// DecisionSolvency is the client's solvency as the credit policy reads it (decision's
// SolvencySource). It reads storage only, so a slow or dead provider never delays a quote; the
// view's staleness tells the policy how far to trust it. A client unknown here (a prospect being
// registered) has no data: available false, stale true.
func (s *Service) DecisionSolvency(ctx context.Context, clientID string, _ ledger.Date) (decision.Solvency, error) {
	v, _, err := s.View(ctx, clientID)
	if err != nil {
		return decision.Solvency{}, err
	}
	return DecisionInput(v), nil
}

// DecisionInput maps a view to the policy's input.solvency document.
func DecisionInput(v View) decision.Solvency {
	out := decision.Solvency{Available: v.Available, Stale: v.Stale, CompanyStatus: decision.CompanyUnknown,
		Grade: v.Grade, RecommendedLimit: v.RecommendedLimit, NegativeEquity: v.NegativeEquity}
	switch v.CompanyStatus {
	case StatusActive:
		out.CompanyStatus = decision.CompanyActive
	case StatusClosed:
		out.CompanyStatus = decision.CompanyClosed
	}
	if v.AsOf != nil {
		d := ledger.DateFromTime(v.AsOf.UTC())
		out.AsOf = &d
	}
	// The policy's insolvency is the open proceeding only: a closed one or a plan is history the
	// view keeps for explanations, not a reason to deny.
	if v.Insolvency.Open {
		out.Insolvency.Open = true
		if v.Insolvency.Kind != "" {
			k := v.Insolvency.Kind
			out.Insolvency.Kind = &k
		}
		out.Insolvency.JudgmentDate = v.Insolvency.JudgmentDate
	}
	return out
}
