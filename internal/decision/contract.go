package decision

import (
	"encoding/json"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// Input is the document a credit policy reads as `input` (policies/README.md,
// policies/schema/input.json). The integrator fills it for each quote and logs it as JSON with the
// decision: evaluating that JSON with Engine.EvaluateJSON replays the decision exactly. Amounts
// are ledger.Money here and integer cents in the document (contract_json.go).
type Input struct {
	// Now is the decision time; policies read it instead of the clock. Its zone offset must be 0.
	Now       time.Time   `json:"now"`
	Today     ledger.Date `json:"today"`
	Quote     Quote       `json:"quote"`
	Client    Client      `json:"client"`
	Score     Score       `json:"score"`
	Metrics   Metrics     `json:"metrics"`
	Solvency  Solvency    `json:"solvency"`
	Sanctions Sanctions   `json:"sanctions"`
	// Exposure is the client's exposure before this quote.
	Exposure Exposure `json:"exposure"`
}

// Quote is the quote being decided, as the CRM sent it.
type Quote struct {
	QuoteID            string       `json:"quote_id"`
	Amount             ledger.Money `json:"amount"`
	Currency           string       `json:"currency"`
	RequestedTermsDays int          `json:"requested_terms_days"`
	EndOfMonth         bool         `json:"end_of_month"`
	OpenOrdersAmount   ledger.Money `json:"open_orders_amount"`
}

// Client identifies the client; nil fields are unknown.
type Client struct {
	ClientID       string  `json:"client_id"`
	Name           string  `json:"name"`
	RegistrationID *string `json:"registration_id"`
	Country        *string `json:"country"`
	Sector         *string `json:"sector"`
	// IsNew is true when the client has no invoice yet.
	IsNew bool `json:"is_new"`
}

// RiskClass is the score's class, A (best) to E (worst).
type RiskClass string

// The risk classes, best first.
const (
	ClassA RiskClass = "A"
	ClassB RiskClass = "B"
	ClassC RiskClass = "C"
	ClassD RiskClass = "D"
	ClassE RiskClass = "E"
)

// Score is the client's current score with what cost it points.
type Score struct {
	Value        float64       `json:"value"`
	RiskClass    RiskClass     `json:"risk_class"`
	PD           float64       `json:"pd"`
	ModelVersion string        `json:"model_version"`
	Reasons      []ScoreReason `json:"reasons"`
}

// ScoreReason is one line of the score's explanation.
type ScoreReason struct {
	Code       string  `json:"code"`
	Text       string  `json:"text"`
	PointsLost float64 `json:"points_lost"`
}

// MarshalJSON writes reasons as [] when there are none: the schema wants an array, not null.
func (s Score) MarshalJSON() ([]byte, error) {
	type plain Score
	if s.Reasons == nil {
		s.Reasons = []ScoreReason{}
	}
	return json.Marshal(plain(s))
}

// Metrics are the client's receivables metrics as of Today; nil fields have no meaningful value.
type Metrics struct {
	OpenAR         ledger.Money `json:"open_ar"`
	Overdue        ledger.Money `json:"overdue"`
	OverdueRate    *float64     `json:"overdue_rate"`
	MaxDaysOverdue int          `json:"max_days_overdue"`
	WeightedDBT12m *float64     `json:"weighted_dbt_12m"`
	PaidCount12m   int          `json:"paid_count_12m"`
	DSO            *float64     `json:"dso"`
}

// CompanyStatus is the company's registry status.
type CompanyStatus string

// The company statuses.
const (
	CompanyActive  CompanyStatus = "active"
	CompanyClosed  CompanyStatus = "closed"
	CompanyUnknown CompanyStatus = "unknown"
)

// Solvency is what the solvency providers last said about the company.
type Solvency struct {
	// Available is false when no provider ever answered for this company.
	Available bool `json:"available"`
	// Stale is true when the latest snapshot is older than the freshness window.
	Stale            bool          `json:"stale"`
	AsOf             *ledger.Date  `json:"as_of"`
	CompanyStatus    CompanyStatus `json:"company_status"`
	Insolvency       Insolvency    `json:"insolvency"`
	Grade            *int          `json:"grade"`
	RecommendedLimit *ledger.Money `json:"recommended_limit"`
	NegativeEquity   *bool         `json:"negative_equity"`
}

// Insolvency describes an insolvency proceeding, if one is open.
type Insolvency struct {
	Open         bool         `json:"open"`
	Kind         *string      `json:"kind"`
	JudgmentDate *ledger.Date `json:"judgment_date"`
}

// SanctionsStatus is the outcome of screening the client against the sanctions lists.
type SanctionsStatus string

// The screening statuses.
const (
	SanctionsClear          SanctionsStatus = "clear"
	SanctionsPotentialMatch SanctionsStatus = "potential_match"
	SanctionsConfirmed      SanctionsStatus = "confirmed"
	SanctionsNotScreened    SanctionsStatus = "not_screened"
)

// Sanctions is the screening status with the list entries that matched.
type Sanctions struct {
	Status SanctionsStatus `json:"status"`
	Hits   []SanctionsHit  `json:"hits"`
}

// MarshalJSON writes hits as [] when there are none: the schema wants an array, not null.
func (s Sanctions) MarshalJSON() ([]byte, error) {
	type plain Sanctions
	if s.Hits == nil {
		s.Hits = []SanctionsHit{}
	}
	return json.Marshal(plain(s))
}

// SanctionsHit is one list entry close to the client's name.
type SanctionsHit struct {
	EntryID     string  `json:"entry_id"`
	List        string  `json:"list"`
	MatchedName string  `json:"matched_name"`
	Score       float64 `json:"score"`
}

// Exposure is the client's exposure before the quote: Total is OpenAR + Reserved + OpenOrders
// (Overdue is part of OpenAR).
type Exposure struct {
	OpenAR     ledger.Money `json:"open_ar"`
	Overdue    ledger.Money `json:"overdue"`
	Reserved   ledger.Money `json:"reserved"`
	OpenOrders ledger.Money `json:"open_orders"`
	Total      ledger.Money `json:"total"`
}
