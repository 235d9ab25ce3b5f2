package scoring

import (
	"fmt"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
	"github.com/credorisk/credo/internal/solvency"
)

// InputsAsOf says which data a score was computed from.
type InputsAsOf struct {
	// Ledger is the date the receivables features are computed as of.
	Ledger ledger.Date `json:"ledger"`
	// Solvency is when the oldest solvency snapshot used was fetched; nil without one.
	Solvency *time.Time `json:"solvency"`
	// SanctionsListVersion names the sanctions list versions loaded; nil when none is.
	SanctionsListVersion *string `json:"sanctions_list_version"`
}

// Assessment is one client's score with everything it was computed from.
type Assessment struct {
	ClientID   string
	Result     Result
	Features   Features
	Metrics    receivables.Metrics
	InputsAsOf InputsAsOf
	ComputedAt time.Time
	// HasInvoices is false for a client with no invoice issued on or before the ledger date.
	HasInvoices bool
}

// HistoryEntry is one recorded score.
type HistoryEntry struct {
	ClientID     string     `json:"-"`
	ModelVersion string     `json:"model_version"`
	Score        int        `json:"score"`
	RiskClass    string     `json:"risk_class"`
	PD           float64    `json:"pd"`
	ComputedAt   time.Time  `json:"computed_at"`
	InputsAsOf   InputsAsOf `json:"inputs_as_of"`
	Features     Features   `json:"features"`
}

// Change is a recorded change of a client's score: From is the risk class before ("" for the
// client's first score under that model version), To the class now.
type Change struct {
	ClientID string
	From, To string
}

func (a *Assessment) historyEntry() HistoryEntry {
	return HistoryEntry{ClientID: a.ClientID, ModelVersion: a.Result.ModelVersion, Score: a.Result.Score,
		RiskClass: a.Result.RiskClass, PD: a.Result.PD, ComputedAt: a.ComputedAt, InputsAsOf: a.InputsAsOf,
		Features: a.Features}
}

// FeaturesFrom maps a client's receivables metrics and solvency view (known false: none) to the
// model's features. Every known feature gets an entry, missing when the data says nothing:
//   - the payment-behaviour features (weighted_dbt_12m, late_share_12m, dbt_trend) are missing
//     when no invoice was paid in the 12 months (dbt_trend also when either of its periods has
//     none), dispute_rate_12m when none was issued in them;
//   - overdue_rate is missing when nothing is open (0 open means no share to measure);
//   - max_days_overdue, relationship_months and paid_count_12m are missing for a client with no
//     invoice at all ("no receivables", "new client", "no history"), and 0 or a count otherwise;
//   - the solvency features are missing without a view, and each when its provider said nothing.
func FeaturesFrom(m receivables.Metrics, v solvency.View, known bool) Features {
	hasInvoices := m.RelationshipMonths != nil
	f := Features{
		FeatureWeightedDBT12m:     NumberPtr(m.WeightedDBT12m),
		FeatureLateShare12m:       NumberPtr(m.LateShare12m),
		FeatureMaxDaysOverdue:     Missing(),
		FeatureOverdueRate:        NumberPtr(m.OverdueRate),
		FeatureDBTTrend:           NumberPtr(m.DBTTrend),
		FeatureDisputeRate12m:     NumberPtr(m.DisputeRate12m),
		FeatureRelationshipMonths: IntPtr(m.RelationshipMonths),
		FeaturePaidCount12m:       Missing(),
		FeatureBureauGrade:        Missing(),
		FeatureCompanyAgeMonths:   Missing(),
		FeatureOpenInsolvency:     Missing(),
		FeatureNegativeEquity:     Missing(),
	}
	if hasInvoices {
		f[FeatureMaxDaysOverdue] = Int(m.MaxDaysOverdue)
		f[FeaturePaidCount12m] = Int(m.PaidCount12m)
	}
	if known && v.Available {
		f[FeatureBureauGrade] = IntPtr(v.Grade)
		f[FeatureCompanyAgeMonths] = IntPtr(v.CompanyAgeMonths)
		f[FeatureOpenInsolvency] = Bool(v.Insolvency.Open)
		f[FeatureNegativeEquity] = BoolPtr(v.NegativeEquity)
	}
	return f
}

// assess scores one client's facts with the active model.
func (s *Service) assess(clientID string, f receivables.Facts, v solvency.View, known bool, sanctions *string) (Assessment, error) {
	m := receivables.Compute(f)
	feats := FeaturesFrom(m, v, known)
	if err := feats.Validate(); err != nil {
		// The inputs come from our own ledger and providers: a value out of range is a defect of
		// the data or of the mapping above, not something the caller can fix.
		return Assessment{}, &fault.Error{Code: fault.Internal, Message: "internal error",
			Err: fmt.Errorf("features of client %s: %w", clientID, err)}
	}
	in := InputsAsOf{Ledger: f.AsOf, SanctionsListVersion: sanctions}
	if known && v.Available && v.AsOf != nil {
		t := v.AsOf.UTC()
		in.Solvency = &t
	}
	return Assessment{
		ClientID: clientID, Result: Score(s.model, feats), Features: feats, Metrics: m, InputsAsOf: in,
		// Postgres keeps microseconds: the history then shows what the API answered.
		ComputedAt:  s.cfg.Now().UTC().Truncate(time.Microsecond),
		HasInvoices: m.RelationshipMonths != nil,
	}, nil
}
