package solvency

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DefaultBODACCURL is the public Opendatasoft portal of the BODACC (open data, no key).
const DefaultBODACCURL = "https://bodacc-datadila.opendatasoft.com"

// bodaccRecordsPath is the Explore API v2.1 records endpoint of the commercial notices dataset.
const bodaccRecordsPath = "/api/explore/v2.1/catalog/datasets/annonces-commerciales/records"

// BODACC reads insolvency proceedings from the Bulletin officiel des annonces civiles et
// commerciales: the "collective" notices of a SIREN, with their rectifications and cancellations.
type BODACC struct {
	base     string
	f        *fetcher
	pageSize int // Opendatasoft caps limit at 100
	maxPages int // a company with more notices than this keeps the most recent ones
}

// NewBODACC builds the adapter for the portal at baseURL (DefaultBODACCURL in production).
func NewBODACC(baseURL string, opts HTTPOptions) (*BODACC, error) {
	base, err := checkBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("BODACC: %w", err)
	}
	return &BODACC{base: base, f: newFetcher("bodacc", opts, nil), pageSize: 100, maxPages: 20}, nil
}

// Name implements Provider.
func (b *BODACC) Name() string { return "bodacc" }

// BreakerState reports the provider's circuit breaker state.
func (b *BODACC) BreakerState() BreakerState { return b.f.BreakerState() }

// Fetch implements Provider: all collective notices of the company's SIREN, newest first, folded
// into one insolvency state.
func (b *BODACC) Fetch(ctx context.Context, c Company) (Snapshot, error) {
	siren, err := c.SIREN()
	if err != nil {
		b.f.fetched("unsupported", b.f.opts.Now())
		return Snapshot{}, err
	}
	return b.f.run(ctx, c, func(ctx context.Context) (Snapshot, error) { return b.fetch(ctx, siren) })
}

// bodaccPage is one page of the Explore API answer.
type bodaccPage struct {
	TotalCount *int              `json:"total_count"`
	Results    []json.RawMessage `json:"results"`
}

func (b *BODACC) fetch(ctx context.Context, siren string) (Snapshot, error) {
	var raws []json.RawMessage
	var warnings []string
	for page, offset := 0, 0; ; page++ {
		if page == b.maxPages {
			warnings = append(warnings, fmt.Sprintf("only the %d most recent BODACC notices were read", offset))
			break
		}
		q := url.Values{}
		q.Set("where", fmt.Sprintf(`registre like "%s" and familleavis="collective"`, siren))
		q.Set("order_by", "dateparution desc")
		q.Set("limit", strconv.Itoa(b.pageSize))
		q.Set("offset", strconv.Itoa(offset))
		resp, err := b.f.getJSON(ctx, b.base+bodaccRecordsPath+"?"+q.Encode(), nil, false)
		if err != nil {
			return Snapshot{}, err
		}
		var p bodaccPage
		if err := decodeJSON(resp.Body, &p); err != nil {
			return Snapshot{}, err
		}
		if p.TotalCount == nil || p.Results == nil {
			return Snapshot{}, fmt.Errorf("%w: BODACC answer without total_count or results", ErrMalformed)
		}
		raws = append(raws, p.Results...)
		offset += len(p.Results)
		if len(p.Results) == 0 || offset >= *p.TotalCount {
			break
		}
	}
	notices, w, err := parseBODACCRecords(raws, siren)
	if err != nil {
		return Snapshot{}, err
	}
	st := foldNotices(notices)
	raw, err := json.Marshal(struct {
		TotalCount int               `json:"total_count"`
		Results    []json.RawMessage `json:"results"`
	}{len(raws), raws})
	if err != nil {
		return Snapshot{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	s := Snapshot{CompanyStatus: StatusUnknown, Insolvency: st.insolvency, Raw: raw}
	if st.companyClosed {
		s.CompanyStatus = StatusClosed
		s.StatusDate = st.insolvency.ClosedDate
	}
	s.Warnings = append(append(warnings, w...), st.warnings...)
	return s, nil
}

// bodaccRecord is the part of an annonces-commerciales record the rules read. jugement and
// parutionavisprecedent are JSON documents stored as strings.
type bodaccRecord struct {
	ID                    string      `json:"id"`
	PublicationAvis       string      `json:"publicationavis"`
	Parution              string      `json:"parution"`
	DateParution          string      `json:"dateparution"`
	NumeroAnnonce         flexInt     `json:"numeroannonce"`
	TypeAvis              string      `json:"typeavis"`
	FamilleAvis           string      `json:"familleavis"`
	Registre              flexStrings `json:"registre"`
	Jugement              embeddedDoc `json:"jugement"`
	ParutionAvisPrecedent embeddedDoc `json:"parutionavisprecedent"`
}

type bodaccJugement struct {
	Famille            string `json:"famille"`
	Nature             string `json:"nature"`
	Date               string `json:"date"`
	ComplementJugement string `json:"complementJugement"`
}

type bodaccPrecedent struct {
	NomPublication string  `json:"nomPublication"`
	NumeroParution string  `json:"numeroParution"`
	NumeroAnnonce  flexInt `json:"numeroAnnonce"`
}

// parseBODACCRecords checks and reduces the records. A record of another SIREN (the "like"
// search is textual) is skipped; one whose structure is broken rejects the whole answer, since a
// notice we cannot read may be the opening judgment.
func parseBODACCRecords(raws []json.RawMessage, siren string) ([]notice, []string, error) {
	var out []notice
	var warnings []string
	for i, raw := range raws {
		var r bodaccRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, nil, fmt.Errorf("%w: BODACC record %d: %v", ErrMalformed, i, err)
		}
		if !r.Registre.hasSIREN(siren) {
			continue
		}
		if r.FamilleAvis != "" && r.FamilleAvis != "collective" {
			continue
		}
		published, err := parseRegisterDate(r.DateParution)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: BODACC record %s: dateparution %q", ErrMalformed, r.ID, r.DateParution)
		}
		n := notice{typeAvis: strings.ToLower(strings.TrimSpace(r.TypeAvis)), published: published, judged: published, number: int(r.NumeroAnnonce)}
		if n.typeAvis == "" {
			n.typeAvis = "annonce"
		}
		n.key = r.ID
		if r.PublicationAvis != "" && r.Parution != "" && r.NumeroAnnonce != 0 {
			n.key = r.PublicationAvis + r.Parution + strconv.Itoa(int(r.NumeroAnnonce))
		}
		if len(r.ParutionAvisPrecedent) > 0 {
			var p bodaccPrecedent
			if err := json.Unmarshal(r.ParutionAvisPrecedent, &p); err != nil {
				return nil, nil, fmt.Errorf("%w: BODACC record %s: parutionavisprecedent: %v", ErrMalformed, r.ID, err)
			}
			fields := strings.Fields(p.NomPublication) // "BODACC A" -> "A"
			if len(fields) > 0 && p.NumeroParution != "" && p.NumeroAnnonce != 0 {
				n.ref = fields[len(fields)-1] + strings.TrimSpace(p.NumeroParution) + strconv.Itoa(int(p.NumeroAnnonce))
			}
		}
		if len(r.Jugement) == 0 {
			if n.typeAvis != "annulation" {
				warnings = append(warnings, fmt.Sprintf("BODACC %s: collective notice without a judgment, ignored", n.key))
				continue
			}
		} else {
			var j bodaccJugement
			if err := json.Unmarshal(r.Jugement, &j); err != nil {
				return nil, nil, fmt.Errorf("%w: BODACC record %s: jugement: %v", ErrMalformed, r.ID, err)
			}
			n.famille, n.nature, n.complement = j.Famille, j.Nature, j.ComplementJugement
			if j.Date != "" {
				if d, err := parseRegisterDate(j.Date); err == nil {
					n.judged = d
				} else {
					warnings = append(warnings, fmt.Sprintf("BODACC %s: judgment date %q unreadable, publication date used", n.key, j.Date))
				}
			}
		}
		out = append(out, n)
	}
	return out, warnings, nil
}

// embeddedDoc is a JSON document that Opendatasoft serves as a string ("{\"famille\": ...}");
// an object is accepted too. Null and "" decode to empty.
type embeddedDoc []byte

func (e *embeddedDoc) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s == "" {
			*e = nil
			return nil
		}
		if !json.Valid([]byte(s)) {
			return fmt.Errorf("embedded document is not JSON")
		}
		*e = []byte(s)
	case len(b) > 0 && b[0] == '{':
		*e = append([]byte(nil), b...)
	default:
		return fmt.Errorf("embedded document must be a JSON object or a string holding one")
	}
	return nil
}

// flexInt is a number served either as a JSON number or as a numeric string.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*n = flexInt(v)
	return nil
}

// flexStrings is registre: an array in API v2.1 ("894670793", "894 670 793"), a comma-separated
// string in older exports.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = strings.Split(s, ",")
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*f = a
	return nil
}

func (f flexStrings) hasSIREN(siren string) bool {
	for _, s := range f {
		if normalizeRegistrationID(s) == siren {
			return true
		}
	}
	return false
}

// checkBaseURL requires an absolute http(s) URL and drops a trailing slash.
func checkBaseURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("the base URL must be an absolute http or https URL") // not echoed: it may hold credentials
	}
	return strings.TrimRight(u.String(), "/"), nil
}
