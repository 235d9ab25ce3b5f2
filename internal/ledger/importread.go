package ledger

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/credorisk/credo/internal/fault"
)

// ImportRow is one valid row of an import file, with its line for later rejections (an unknown
// client, a conflict with stored data).
type ImportRow struct {
	Line       int
	Client     *Client
	Invoice    *Invoice
	PaidDate   *Date  // invoices: a settlement payment on that date
	ClientName string // invoices: the name of a client created on the fly
	Payment    *Payment
}

// RowReader reads an import file row by row. Next returns a valid row, or a rejection (the row's
// line and field errors), or io.EOF; any other error is fatal to the whole file.
type RowReader struct {
	opts  ImportOptions
	base  string
	csv   *csv.Reader
	nd    *bufio.Scanner
	cols  map[string]int // field -> column index (CSV)
	line  int
	width int
}

// MaxLineBytes bounds one NDJSON line.
const MaxLineBytes = 1 << 20

// NewRowReader checks the header (CSV) and prepares to read rows.
func NewRowReader(r io.Reader, opts ImportOptions, baseCurrency string) (*RowReader, error) {
	rr := &RowReader{opts: opts, base: baseCurrency}
	if opts.Format == "ndjson" {
		rr.nd = bufio.NewScanner(r)
		rr.nd.Buffer(make([]byte, 64*1024), MaxLineBytes)
		return rr, nil
	}
	br := bufio.NewReaderSize(r, 256*1024)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	rr.csv = csv.NewReader(br)
	rr.csv.Comma = opts.Delimiter
	rr.csv.ReuseRecord = true
	header, err := rr.csv.Read()
	if err == io.EOF {
		return nil, fault.Validation("the file is empty", fault.FieldError{Line: 1, Field: "header", Message: "a header row naming the columns is required"})
	}
	if err != nil {
		return nil, csvError(err)
	}
	rr.line = 1
	rr.width = len(header)
	rr.csv.FieldsPerRecord = len(header)
	index := map[string]int{}
	for i, h := range header {
		index[strings.TrimSpace(h)] = i
	}
	rr.cols = map[string]int{}
	spec := importFields[opts.Kind]
	var fe []fault.FieldError
	for _, f := range spec.required {
		c := opts.column(f)
		i, ok := index[c]
		if !ok {
			fe = append(fe, fault.FieldError{Line: 1, Field: f, Message: fmt.Sprintf("column %q is missing from the header", c)})
			continue
		}
		rr.cols[f] = i
	}
	for _, f := range spec.optional {
		if i, ok := index[opts.column(f)]; ok {
			rr.cols[f] = i
		} else if _, mapped := opts.Map[f]; mapped {
			fe = append(fe, fault.FieldError{Line: 1, Field: f, Message: fmt.Sprintf("column %q is missing from the header", opts.Map[f])})
		}
	}
	if len(fe) > 0 {
		return nil, fault.Validation("the file's header does not match the mapping", fe...)
	}
	return rr, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fault.Validation("the CSV file cannot be read", fault.FieldError{Line: pe.Line, Field: "csv", Message: pe.Err.Error()})
	}
	return err
}

// Line is the number of the last line read.
func (rr *RowReader) Line() int { return rr.line }

// Next reads the next row. A rejected row comes back as (row with Line, field errors, nil).
func (rr *RowReader) Next() (ImportRow, []fault.FieldError, error) {
	var get func(field string) (string, bool)
	if rr.csv != nil {
		rec, err := rr.csv.Read()
		rr.line, _ = rr.csv.FieldPos(0)
		if err == io.EOF {
			return ImportRow{}, nil, io.EOF
		}
		if err != nil {
			if errors.Is(err, csv.ErrFieldCount) {
				return ImportRow{Line: rr.line}, []fault.FieldError{{Line: rr.line, Field: "row", Message: fmt.Sprintf("has %d columns, the header has %d", len(rec), rr.width)}}, nil
			}
			return ImportRow{}, nil, csvError(err)
		}
		get = func(field string) (string, bool) {
			i, ok := rr.cols[field]
			if !ok {
				return "", false
			}
			return rec[i], true
		}
	} else {
		for {
			if !rr.nd.Scan() {
				if err := rr.nd.Err(); err != nil {
					if errors.Is(err, bufio.ErrTooLong) {
						return ImportRow{}, nil, fault.Validation("the file cannot be read", fault.FieldError{Line: rr.line + 1, Field: "line", Message: "is longer than 1 MiB"})
					}
					return ImportRow{}, nil, err
				}
				return ImportRow{}, nil, io.EOF
			}
			rr.line++
			if len(bytes.TrimSpace(rr.nd.Bytes())) > 0 {
				break
			}
		}
		obj, err := decodeNDJSONLine(rr.nd.Bytes())
		if err != nil {
			return ImportRow{Line: rr.line}, []fault.FieldError{{Line: rr.line, Field: "line", Message: err.Error()}}, nil
		}
		get = func(field string) (string, bool) {
			v, ok := obj[rr.opts.column(field)]
			return v, ok
		}
	}
	return rr.convert(get)
}

// decodeNDJSONLine reads one JSON object into field -> text (numbers as written, booleans as
// true/false, null as absent).
func decodeNDJSONLine(b []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("is not a JSON object: %v", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) == 0 || string(v) == "null":
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("field %q: %v", k, err)
			}
			out[k] = s
		case v[0] == '{':
			return nil, fmt.Errorf("field %q must not be an object", k)
		case v[0] == '[':
			var list []string
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, fmt.Errorf("field %q must be a list of strings", k)
			}
			out[k] = strings.Join(list, ";")
		default:
			out[k] = string(v)
		}
	}
	return out, nil
}

// rowParser converts the text of one row, collecting field errors.
type rowParser struct {
	rr   *RowReader
	get  func(string) (string, bool)
	errs []fault.FieldError
}

func (p *rowParser) fail(field, format string, args ...any) {
	p.errs = append(p.errs, fault.FieldError{Line: p.rr.line, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p *rowParser) text(field string) string {
	v, _ := p.get(field)
	return strings.TrimSpace(v)
}

func (p *rowParser) date(field string) (Date, bool) {
	v := p.text(field)
	if v == "" {
		return 0, false
	}
	d, err := ParseDateLayout(v, p.rr.opts.DateLayout)
	if err != nil {
		p.fail(field, "%q is not a date in the layout %s", v, p.rr.opts.DateLayout)
		return 0, false
	}
	return d, true
}

func (p *rowParser) money(field string) Money {
	v := p.text(field)
	if v == "" {
		p.fail(field, "is required")
		return 0
	}
	m, err := ParseMoney(v, p.rr.opts.Decimal)
	if err != nil {
		p.fail(field, "%q %v", v, err)
	}
	return m
}

func (p *rowParser) boolean(field string) bool {
	switch strings.ToLower(p.text(field)) {
	case "", "no", "n", "false", "f", "0", "non":
		return false
	case "yes", "y", "true", "t", "1", "oui":
		return true
	}
	p.fail(field, "%q is not a boolean (yes/no, true/false, 1/0)", p.text(field))
	return false
}

// validation turns a domain validation error into this row's field errors.
func (p *rowParser) validation(err error) {
	if err == nil {
		return
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		for _, f := range fe.Fields {
			if !p.has(f.Field) {
				f.Line = p.rr.line
				p.errs = append(p.errs, f)
			}
		}
		return
	}
	p.fail("row", "%v", err)
}

func (p *rowParser) has(field string) bool {
	for _, e := range p.errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

func (rr *RowReader) convert(get func(string) (string, bool)) (ImportRow, []fault.FieldError, error) {
	p := &rowParser{rr: rr, get: get}
	row := ImportRow{Line: rr.line}
	switch rr.opts.Kind {
	case ImportClients:
		c := &Client{ClientID: p.text("client_id"), Name: p.text("name"), RegistrationID: p.text("registration_id"), Country: p.text("country"), Sector: p.text("sector")}
		if d := p.text("directors"); d != "" {
			c.Directors = strings.FieldsFunc(d, func(r rune) bool { return r == ';' || r == '|' })
		}
		c.Normalize()
		p.validation(c.Validate())
		row.Client = c
	case ImportInvoices:
		inv := &Invoice{InvoiceID: p.text("invoice_id"), ClientID: p.text("client_id"), Number: p.text("number"), Kind: p.text("kind"),
			Currency: p.text("currency"), QuoteID: p.text("quote_id"), AppliesTo: p.text("applies_to")}
		if inv.Currency == "" {
			inv.Currency = rr.base
		}
		var ok bool
		if inv.IssueDate, ok = p.date("issue_date"); !ok && !p.has("issue_date") {
			p.fail("issue_date", "is required")
		}
		if inv.DueDate, ok = p.date("due_date"); !ok && !p.has("due_date") {
			p.fail("due_date", "is required")
		}
		inv.Amount = p.money("amount")
		inv.Disputed = p.boolean("disputed")
		inv.Normalize()
		if len(p.errs) == 0 {
			p.validation(inv.Validate(rr.base))
		}
		if d, ok := p.date("paid_date"); ok {
			switch {
			case inv.Kind == KindCreditNote:
				p.fail("paid_date", "does not apply to a credit note")
			case d < inv.IssueDate:
				p.fail("paid_date", "must be on or after issue_date (%s)", inv.IssueDate)
			default:
				row.PaidDate = &d
			}
		}
		row.ClientName = p.text("client_name")
		if e := checkText("client_name", row.ClientName, MaxNameLen, false); e != nil {
			p.fail(e.Field, "%s", e.Message)
		}
		row.Invoice = inv
	case ImportPayments:
		pay := &Payment{PaymentID: p.text("payment_id"), ClientID: p.text("client_id"), Currency: strings.ToUpper(p.text("currency")), Reference: p.text("reference")}
		var ok bool
		if pay.Date, ok = p.date("date"); !ok && !p.has("date") {
			p.fail("date", "is required")
		}
		pay.Amount = p.money("amount")
		if inv := p.text("invoice_id"); inv != "" {
			pay.Allocations = []Allocation{{InvoiceID: inv, Amount: pay.Amount}}
		}
		if len(p.errs) == 0 {
			p.validation(pay.Validate(rr.base))
		}
		row.Payment = pay
	}
	if len(p.errs) > 0 {
		return row, p.errs, nil
	}
	return row, nil, nil
}
