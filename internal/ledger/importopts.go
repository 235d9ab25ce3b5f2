package ledger

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/credorisk/credo/internal/fault"
)

// Import kinds.
const (
	ImportClients  = "clients"
	ImportInvoices = "invoices"
	ImportPayments = "payments"
)

// importFields lists, per kind, the fields an import row may carry; required ones first.
var importFields = map[string]struct{ required, optional []string }{
	ImportClients:  {[]string{"client_id", "name"}, []string{"registration_id", "country", "sector", "directors"}},
	ImportInvoices: {[]string{"invoice_id", "client_id", "issue_date", "due_date", "amount"}, []string{"number", "kind", "currency", "disputed", "quote_id", "applies_to", "paid_date", "client_name"}},
	ImportPayments: {[]string{"payment_id", "client_id", "date", "amount"}, []string{"currency", "reference", "invoice_id"}},
}

// ImportOptions say how to read an import file.
type ImportOptions struct {
	Kind          string
	Format        string            // "csv" or "ndjson"
	Map           map[string]string // field -> source column (or NDJSON key); unmapped fields use their own name
	DateLayout    string            // a Go time layout
	Delimiter     rune
	Decimal       byte // '.' or ','
	CreateClients bool // create a client named after its id when an invoice names an unknown one
	Atomic        bool // nothing lands if any row fails
}

// ImportParams are the textual options of an import, as given on a URL or a command line.
type ImportParams struct {
	Kind, Format, Map, DateFormat, Delimiter, Decimal string
	CreateClients, Atomic                             bool
}

// ParseImportOptions validates textual import options.
func ParseImportOptions(p ImportParams) (ImportOptions, error) {
	var fe fieldErrors
	o := ImportOptions{Kind: p.Kind, Format: p.Format, Map: map[string]string{}, CreateClients: p.CreateClients, Atomic: p.Atomic}
	spec, ok := importFields[p.Kind]
	if !ok {
		fe.addf("kind", "must be clients, invoices or payments")
	}
	switch o.Format {
	case "", "csv":
		o.Format = "csv"
	case "ndjson":
	default:
		fe.addf("format", "must be csv or ndjson")
	}
	if p.Map != "" {
		for _, pair := range strings.Split(p.Map, ",") {
			field, col, ok := strings.Cut(pair, "=")
			field, col = strings.TrimSpace(field), strings.TrimSpace(col)
			switch {
			case !ok || field == "" || col == "":
				fe.addf("map", "%q is not a field=Column pair", pair)
			case !slices.Contains(spec.required, field) && !slices.Contains(spec.optional, field):
				fe.addf("map", "%q is not a field of a %s import (fields: %s)", field, p.Kind, strings.Join(append(slices.Clone(spec.required), spec.optional...), ", "))
			default:
				o.Map[field] = col
			}
		}
	}
	switch f := p.DateFormat; f {
	case "", "iso":
		o.DateLayout = "2006-01-02"
	case "us":
		o.DateLayout = "1/2/2006"
	case "eu":
		o.DateLayout = "2/1/2006"
	default:
		if !strings.Contains(f, "2006") || !strings.Contains(f, "2") {
			fe.addf("date_format", "must be iso, us (M/D/YYYY), eu (D/M/YYYY) or a Go layout such as 02.01.2006")
		}
		o.DateLayout = f
	}
	switch d := p.Delimiter; {
	case d == "" || d == ",":
		o.Delimiter = ','
	case d == "tab" || d == `\t` || d == "\t":
		o.Delimiter = '\t'
	case utf8.RuneCountInString(d) == 1 && d != "\"" && d != "\n" && d != "\r":
		o.Delimiter, _ = utf8.DecodeRuneInString(d)
	default:
		fe.addf("delimiter", "must be one character (or tab)")
	}
	switch p.Decimal {
	case "", ".":
		o.Decimal = '.'
	case ",":
		o.Decimal = ','
	default:
		fe.addf("decimal", "must be . or ,")
	}
	if o.Decimal == ',' && o.Delimiter == ',' {
		fe.addf("delimiter", "must not be , when the decimal separator is , (use ; or tab)")
	}
	if err := fe.err("the import options are not valid"); err != nil {
		return o, err
	}
	return o, nil
}

// column is the source column (or key) of a field.
func (o *ImportOptions) column(field string) string {
	if c, ok := o.Map[field]; ok {
		return c
	}
	return field
}

// ImportReport counts what an import did; Errors lists the rejected rows (at most MaxReportedErrors).
type ImportReport struct {
	Kind           string             `json:"kind"`
	Received       int                `json:"received"`
	Inserted       int                `json:"inserted"`
	Updated        int                `json:"updated"`
	Unchanged      int                `json:"unchanged"`
	Rejected       int                `json:"rejected"`
	ClientsCreated int                `json:"clients_created"`
	Atomic         bool               `json:"atomic"`
	Applied        bool               `json:"applied"`
	Errors         []fault.FieldError `json:"errors"`
}

// MaxReportedErrors caps the rejected rows listed in a report (all are counted).
const MaxReportedErrors = 1000

// Reject records a rejected row.
func (r *ImportReport) Reject(line int, field, msg string) {
	r.Rejected++
	if len(r.Errors) < MaxReportedErrors {
		r.Errors = append(r.Errors, fault.FieldError{Line: line, Field: field, Message: msg})
	}
}
