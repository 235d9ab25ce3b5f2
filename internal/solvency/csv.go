package solvency

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// CSV import fields: client_id is required, at least one of the others must be present.
var csvFields = []string{"client_id", "grade", "score", "limit", "status", "date", "revenue", "equity"}

// CSVParams are the textual options of a solvency import, as given on a command line
// (credo import solvency --map ...) or a URL (POST /v1/imports/solvency?map=...).
type CSVParams struct {
	Map        string // "client_id=Customer,grade=Rating,limit=Credit limit"
	DateFormat string // iso (default), us (M/D/YYYY), eu (D/M/YYYY) or a Go layout
	Delimiter  string // one character or "tab"; empty: detected from the header (, ; or tab)
	Decimal    string // "." (default) or ","
	Provider   string // provider name stored on the snapshots (default "bureau_csv")
}

// CSVOptions say how to read a bureau export.
type CSVOptions struct {
	Map        map[string]string // field -> column; unmapped fields use their own name
	DateLayout string
	Delimiter  rune // 0: detect
	Decimal    byte
	Provider   string
	// Mapping maps the grade column (letters) and the score column through the bureau's scales.
	// Without it the grade column must hold Credo grades 1 to 10 and scores are kept raw.
	Mapping *Mapping
	// MaxRows bounds the rows read (default 200,000).
	MaxRows int
	// Now dates the snapshots when the file has no date column (default time.Now).
	Now func() time.Time
}

// ParseCSVOptions validates textual options; m may be nil.
func ParseCSVOptions(p CSVParams, m *Mapping) (CSVOptions, error) {
	var fe []fault.FieldError
	o := CSVOptions{Map: map[string]string{}, Provider: strings.TrimSpace(p.Provider), Mapping: m}
	if o.Provider == "" {
		o.Provider = "bureau_csv"
	}
	if p.Map != "" {
		for _, pair := range strings.Split(p.Map, ",") {
			field, col, ok := strings.Cut(pair, "=")
			field, col = strings.TrimSpace(field), strings.TrimSpace(col)
			switch {
			case !ok || field == "" || col == "":
				fe = append(fe, fault.Field("map", "%q is not a field=Column pair", pair))
			case !slices.Contains(csvFields, field):
				fe = append(fe, fault.Field("map", "%q is not a solvency import field (fields: %s)", field, strings.Join(csvFields, ", ")))
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
			fe = append(fe, fault.Field("date_format", "must be iso, us (M/D/YYYY), eu (D/M/YYYY) or a Go layout such as 02.01.2006"))
		}
		o.DateLayout = f
	}
	switch d := p.Delimiter; {
	case d == "":
	case d == "tab" || d == `\t` || d == "\t":
		o.Delimiter = '\t'
	case utf8.RuneCountInString(d) == 1 && d != "\"" && d != "\n" && d != "\r":
		o.Delimiter, _ = utf8.DecodeRuneInString(d)
	default:
		fe = append(fe, fault.Field("delimiter", "must be one character (or tab)"))
	}
	switch p.Decimal {
	case "", ".":
		o.Decimal = '.'
	case ",":
		o.Decimal = ','
	default:
		fe = append(fe, fault.Field("decimal", "must be . or ,"))
	}
	if o.Decimal == ',' && o.Delimiter == ',' {
		fe = append(fe, fault.Field("delimiter", "must not be , when the decimal separator is , (use ; or tab)"))
	}
	if len(fe) > 0 {
		return o, fault.Validation("the import options are not valid", fe...)
	}
	return o, nil
}

// CSVRow is one accepted row: its line in the file and its snapshot.
type CSVRow struct {
	Line     int      `json:"line"`
	Snapshot Snapshot `json:"snapshot"`
}

// CSVResult is what a bureau export held: accepted rows, and one error per rejected field with
// its line.
type CSVResult struct {
	Received int                `json:"received"`
	Rows     []CSVRow           `json:"rows"`
	Errors   []fault.FieldError `json:"errors"`
}

var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// ParseCSV reads a bureau export. A broken file (no header, a mapped column missing, a CSV
// syntax error, too many rows) fails as a whole; a bad value rejects its row only.
func ParseCSV(r io.Reader, o CSVOptions) (CSVResult, error) {
	var res CSVResult
	if o.Provider == "" {
		o.Provider = "bureau_csv"
	}
	if o.DateLayout == "" {
		o.DateLayout = time.DateOnly
	}
	if o.Decimal == 0 {
		o.Decimal = '.'
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 200_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	br := bufio.NewReader(r)
	if o.Delimiter == 0 {
		o.Delimiter = detectDelimiter(br)
	}
	cr := csv.NewReader(br)
	cr.Comma = o.Delimiter
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return res, fault.Validation("the file is empty", fault.Field("file", "must have a header row"))
		}
		return res, fault.Validation("the file is not valid CSV", fault.Field("file", "%v", err))
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	col, err := resolveColumns(header, o.Map)
	if err != nil {
		return res, err
	}
	now := o.Now().UTC()
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fault.Validation("the file is not valid CSV", fault.Field("file", "%v", err))
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if res.Received++; res.Received > o.MaxRows {
			return res, fault.Errorf(fault.TooLarge, "the file has more than %d rows", o.MaxRows)
		}
		s, errs := csvSnapshot(rec, header, col, o, now)
		for i := range errs {
			errs[i].Line = line
		}
		if len(errs) == 0 {
			key := s.ClientID + "|" + s.FetchedAt.Format(time.RFC3339)
			if first, dup := seen[key]; dup {
				errs = append(errs, fault.FieldError{Line: line, Field: "client_id", Message: fmt.Sprintf("repeats line %d (same client and date)", first)})
			} else {
				seen[key] = line
			}
		}
		if len(errs) > 0 {
			res.Errors = append(res.Errors, errs...)
			continue
		}
		res.Rows = append(res.Rows, CSVRow{Line: line, Snapshot: s})
	}
	return res, nil
}

// detectDelimiter picks ; or tab over , when the header holds more of them: French exports use ;.
func detectDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(64 << 10)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	best, n := ',', bytes.Count(head, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(head, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}

// resolveColumns finds each field's column index (-1 when absent). A column named in the map
// must exist; client_id and at least one value field are required.
func resolveColumns(header []string, m map[string]string) (map[string]int, error) {
	idx := map[string]int{}
	var fe []fault.FieldError
	for _, f := range csvFields {
		name, mapped := m[f]
		if !mapped {
			name = f
		}
		i := slices.IndexFunc(header, func(h string) bool { return strings.EqualFold(h, name) })
		if i < 0 && mapped {
			fe = append(fe, fault.Field("map", "column %q (for %s) is not in the header", name, f))
		}
		idx[f] = i
	}
	if idx["client_id"] < 0 && len(fe) == 0 {
		fe = append(fe, fault.Field("map", "no client_id column: map it with client_id=Column"))
	}
	if idx["grade"] < 0 && idx["score"] < 0 && idx["limit"] < 0 && idx["status"] < 0 && len(fe) == 0 {
		fe = append(fe, fault.Field("map", "the file has none of grade, score, limit, status"))
	}
	if len(fe) > 0 {
		return nil, fault.Validation("the column mapping does not fit the file", fe...)
	}
	return idx, nil
}

// csvSnapshot builds the snapshot of one row, or the errors of its fields.
func csvSnapshot(rec, header []string, col map[string]int, o CSVOptions, now time.Time) (Snapshot, []fault.FieldError) {
	var fe []fault.FieldError
	bad := func(field, format string, args ...any) { fe = append(fe, fault.Field(field, format, args...)) }
	get := func(f string) string {
		if i := col[f]; i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	s := Snapshot{Provider: o.Provider, CompanyStatus: StatusUnknown, FetchedAt: now}

	if id := get("client_id"); !clientIDRE.MatchString(id) {
		bad("client_id", "must be 1 to 64 of A-Z a-z 0-9 . _ : -")
	} else {
		s.ClientID = id
	}
	grade, score := get("grade"), get("score")
	switch {
	case o.Mapping != nil && (grade != "" || score != ""):
		rt := o.Mapping.GradeFor(grade, score)
		if rt.Warning != "" {
			bad("grade", "%s", rt.Warning)
		}
		s.Grade, s.RawScore, s.Scale = rt.Grade, rt.RawScore, rt.Scale
	case grade != "":
		g, err := strconv.Atoi(grade)
		if err != nil || g < 1 || g > 10 {
			bad("grade", "must be a Credo grade from 1 to 10 (or give a bureau mapping)")
		} else {
			s.Grade, s.RawScore, s.Scale = &g, grade, "Credo grade 1-10"
		}
		if score != "" {
			s.RawScore = score
		}
	case score != "":
		s.RawScore, s.Scale = score, o.Provider+" score (unmapped)"
	}
	amount := func(field string, nonNegative bool) *ledger.Money {
		v := get(field)
		if v == "" {
			return nil
		}
		m, err := ledger.ParseMoney(v, o.Decimal)
		switch {
		case err != nil:
			bad(field, "%v", err)
			return nil
		case nonNegative && m < 0:
			bad(field, "must not be negative")
			return nil
		}
		return &m
	}
	s.RecommendedLimit = amount("limit", true)
	s.Revenue = amount("revenue", false)
	if eq := amount("equity", false); eq != nil {
		s.SetEquity(*eq)
	}
	if st := get("status"); st != "" {
		s.CompanyStatus = bureauCompanyStatus(st)
		if kind := insolvencyWording(st); kind != "" {
			s.Insolvency = Insolvency{Open: true, Kind: kind, Nature: st}
		}
		if s.CompanyStatus == StatusUnknown && !s.Insolvency.Open {
			bad("status", "%q is not a status (active, closed, or a proceeding such as liquidation)", st)
		}
	}
	if col["date"] >= 0 {
		d, err := ledger.ParseDateLayout(get("date"), o.DateLayout)
		if err != nil {
			bad("date", "must be a date as %s", o.DateLayout)
		} else {
			s.FetchedAt = d.Time()
		}
	}
	raw := make(map[string]string, len(header))
	for i, h := range header {
		if i < len(rec) {
			raw[h] = rec[i]
		}
	}
	s.Raw, _ = json.Marshal(raw)
	return s, fe
}
