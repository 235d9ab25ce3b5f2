package decision

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// MaxExportRows bounds one export of the decision log; narrow the dates for more.
const MaxExportRows = 200_000

// ExportPage is one page of the log, as Store.List returns it.
type ExportPage struct {
	Entries []LogEntry
	Next    string
}

// WriteExport writes the entries f selects to w as CSV: ExportColumns, then a row per entry, read
// page by page (1,000 entries a page), at most MaxExportRows. first is f's first page when the
// caller has read it already (to answer a failure before anything is written), else nil. A page
// that cannot be read ends the file with a comment line saying so, and its error is returned; an
// export cut at MaxExportRows ends with a comment line saying so.
func WriteExport(ctx context.Context, w io.Writer, list func(context.Context, Filter) ([]LogEntry, string, error), f Filter, first *ExportPage) error {
	cw := csv.NewWriter(w)
	defer cw.Flush()
	_ = cw.Write(ExportColumns)
	f.Limit, f.After = 1000, ""
	page := first
	for n := 0; ; {
		if page == nil {
			entries, next, err := list(ctx, f)
			if err != nil {
				// The header is sent: say in the file that it is incomplete rather than end silently.
				_ = cw.Write([]string{"# export interrupted: " + err.Error()})
				return err
			}
			page = &ExportPage{Entries: entries, Next: next}
		}
		for _, e := range page.Entries {
			_ = cw.Write(ExportRow(e))
		}
		n += len(page.Entries)
		cw.Flush()
		if page.Next == "" {
			return nil
		}
		if n >= MaxExportRows {
			_ = cw.Write([]string{fmt.Sprintf("# export truncated at %d rows: narrow the dates", MaxExportRows)})
			return nil
		}
		f.After, page = page.Next, nil
	}
}

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
