package decision

import (
	"encoding/json"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// Decision is a decided quote as the CRM receives it and the log keeps it.
type Decision struct {
	DecisionID    string        `json:"decision_id"`
	QuoteID       string        `json:"quote_id"`
	ClientID      string        `json:"client_id"`
	Outcome       Outcome       `json:"outcome"`
	Amount        ledger.Money  `json:"amount"`
	CreditLimit   ledger.Money  `json:"credit_limit"`
	Exposure      Exposure      `json:"exposure"`
	Headroom      ledger.Money  `json:"headroom"`
	PaymentTerms  PaymentTerms  `json:"payment_terms"`
	Reasons       []Reason      `json:"reasons"`
	Score         ScoreSummary  `json:"score"`
	PolicyVersion int           `json:"policy_version"`
	PolicyHash    string        `json:"policy_hash"`
	DecidedAt     time.Time     `json:"decided_at"`
	ExpiresAt     time.Time     `json:"expires_at"`
	Reservation   *Reservation  `json:"reservation"`
	RequestedBy   string        `json:"requested_by"`
	Latency       LatencyFigure `json:"latency"`
}

// ScoreSummary is the score the decision used.
type ScoreSummary struct {
	Value        float64   `json:"value"`
	RiskClass    RiskClass `json:"risk_class"`
	PD           float64   `json:"pd"`
	ModelVersion string    `json:"model_version"`
}

// Reservation states.
const (
	ReservationActive   = "active"
	ReservationConsumed = "consumed"
	ReservationReleased = "released"
	ReservationExpired  = "expired"
)

// Reservation is the amount an approved quote holds against the client's headroom until an
// invoice carrying its quote_id arrives, it is released, or it expires.
type Reservation struct {
	Amount     ledger.Money `json:"amount"`
	Status     string       `json:"status"`
	ExpiresAt  time.Time    `json:"expires_at"`
	ReleasedAt *time.Time   `json:"released_at,omitempty"`
	ReleasedBy string       `json:"released_by,omitempty"`
	ConsumedBy string       `json:"consumed_by,omitempty"`
}

// LatencyFigure records how long the decision took: the policy evaluation and the whole call.
type LatencyFigure struct {
	EvalMicros  int64 `json:"eval_us"`
	TotalMicros int64 `json:"total_us"`
}

// LogEntry is a decision with what it was decided on, for the log and for replay.
type LogEntry struct {
	Decision
	RequestHash string          `json:"request_hash"`
	Input       json.RawMessage `json:"input"`
	Failure     string          `json:"failure,omitempty"`
}

// headroom is the limit minus the exposure once this decision's reservation is counted.
func headroom(limit ledger.Money, exp Exposure, reserved ledger.Money) ledger.Money {
	return limit - exp.Total - reserved
}
