package decision

import (
	"strconv"
	"strings"
	"time"
)

// ExportColumns are the columns of a decision log export, the API's (GET /v1/decisions with
// Accept: text/csv) and the console's alike.
var ExportColumns = []string{"decision_id", "quote_id", "client_id", "decided_at", "outcome", "amount", "credit_limit", "exposure_total",
	"headroom", "net_days", "end_of_month", "deposit_percent", "score", "risk_class", "pd", "model_version", "policy_version",
	"reservation_status", "reason_codes", "requested_by"}

// ExportRow is a logged decision as a row of ExportColumns: machine-readable (dot decimals,
// RFC 3339 times), the reason codes separated by spaces.
func ExportRow(e LogEntry) []string {
	codes := make([]string, len(e.Reasons))
	for i, r := range e.Reasons {
		codes[i] = r.Code
	}
	res := ""
	if e.Reservation != nil {
		res = e.Reservation.Status
	}
	return []string{e.DecisionID, e.QuoteID, e.ClientID, e.DecidedAt.UTC().Format(time.RFC3339Nano), string(e.Outcome),
		e.Amount.String(), e.CreditLimit.String(), e.Exposure.Total.String(), e.Headroom.String(),
		strconv.Itoa(e.PaymentTerms.NetDays), strconv.FormatBool(e.PaymentTerms.EndOfMonth), strconv.Itoa(e.PaymentTerms.DepositPercent),
		strconv.FormatFloat(e.Score.Value, 'f', -1, 64), string(e.Score.RiskClass), strconv.FormatFloat(e.Score.PD, 'f', -1, 64),
		e.Score.ModelVersion, strconv.Itoa(e.PolicyVersion), res, strings.Join(codes, " "), e.RequestedBy}
}
