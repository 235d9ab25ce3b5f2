package solvency

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/credorisk/credo/internal/ledger"
)

// Bureau reads a Creditsafe-style company report: rating (letter and score), recommended credit
// limit, company status, turnover, equity and negative information. Its scales are mapped to
// Credo's grade by a Mapping.
type Bureau struct {
	base     string
	key      string
	mapping  *Mapping
	currency string
	f        *fetcher
}

// NewBureau builds the bureau adapter. currency is the deployment's base currency: amounts the
// report gives in another currency are dropped with a warning, never converted.
func NewBureau(baseURL, key string, m *Mapping, currency string, opts HTTPOptions) (*Bureau, error) {
	base, err := checkBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("bureau: %w", err)
	}
	if strings.TrimSpace(key) == "" {
		return nil, fmt.Errorf("bureau: an API key is required")
	}
	if m == nil {
		return nil, fmt.Errorf("bureau: a scale mapping is required")
	}
	if currency == "" {
		currency = "EUR"
	}
	return &Bureau{base: base, key: key, mapping: m, currency: strings.ToUpper(currency), f: newFetcher("bureau", opts, nil)}, nil
}

// Name implements Provider.
func (b *Bureau) Name() string { return "bureau" }

// BreakerState reports the provider's circuit breaker state.
func (b *Bureau) BreakerState() BreakerState { return b.f.BreakerState() }

// Fetch implements Provider. A 404 (the bureau has no report) is a NotFound snapshot.
func (b *Bureau) Fetch(ctx context.Context, c Company) (Snapshot, error) {
	siren, err := c.SIREN()
	if err != nil {
		b.f.fetched("unsupported", b.f.opts.Now())
		return Snapshot{}, err
	}
	country := strings.ToUpper(strings.TrimSpace(c.Country))
	if country == "" {
		country = "FR"
	}
	path := strings.NewReplacer(
		"{country}", url.PathEscape(country),
		"{siren}", url.PathEscape(siren),
		"{registration_id}", url.PathEscape(normalizeRegistrationID(c.RegistrationID)),
	).Replace(b.mapping.ReportPath)
	return b.f.run(ctx, c, func(ctx context.Context) (Snapshot, error) {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+b.key)
		resp, err := b.f.getJSON(ctx, b.base+path, h, true)
		if err != nil {
			return Snapshot{}, err
		}
		if resp.Status == http.StatusNotFound {
			return Snapshot{NotFound: true, CompanyStatus: StatusUnknown,
				Warnings: []string{"the bureau has no report on this company"}}, nil
		}
		return parseBureauReport(resp.Body, b.mapping, b.currency)
	})
}

type bureauAmount struct {
	Currency string          `json:"currency"`
	Value    json.RawMessage `json:"value"`
}

type bureauStatus struct {
	Status      string `json:"status"`
	Description string `json:"description"`
}

type bureauRating struct {
	CommonValue   json.RawMessage `json:"commonValue"`
	CreditLimit   *bureauAmount   `json:"creditLimit"`
	ProviderValue *struct {
		Value json.RawMessage `json:"value"`
	} `json:"providerValue"`
}

type bureauReport struct {
	Report *struct {
		CompanySummary *struct {
			CompanyStatus                  *bureauStatus `json:"companyStatus"`
			LatestTurnoverFigure           *bureauAmount `json:"latestTurnoverFigure"`
			LatestShareholdersEquityFigure *bureauAmount `json:"latestShareholdersEquityFigure"`
			MainActivity                   *struct {
				Code string `json:"code"`
			} `json:"mainActivity"`
		} `json:"companySummary"`
		CompanyIdentification *struct {
			BasicInformation *struct {
				CompanyRegistrationDate string `json:"companyRegistrationDate"`
				LegalForm               *struct {
					ProviderCode string `json:"providerCode"`
				} `json:"legalForm"`
			} `json:"basicInformation"`
		} `json:"companyIdentification"`
		CreditScore *struct {
			CurrentCreditRating *bureauRating `json:"currentCreditRating"`
		} `json:"creditScore"`
		NegativeInformation json.RawMessage `json:"negativeInformation"`
	} `json:"report"`
}

// parseBureauReport normalises a company report.
func parseBureauReport(body []byte, m *Mapping, currency string) (Snapshot, error) {
	var r bureauReport
	if err := decodeJSON(body, &r); err != nil {
		return Snapshot{}, err
	}
	if r.Report == nil {
		return Snapshot{}, fmt.Errorf("%w: bureau answer without report", ErrMalformed)
	}
	rep := r.Report
	s := Snapshot{CompanyStatus: StatusUnknown, Raw: body}
	warn := func(format string, args ...any) { s.Warnings = append(s.Warnings, fmt.Sprintf(format, args...)) }
	amount := func(name string, a *bureauAmount) (ledger.Money, bool) {
		if a == nil {
			return 0, false
		}
		v, ok, err := parseAmount(string(a.Value))
		switch {
		case err != nil:
			warn("%s %s ignored: %v", name, a.Value, err)
			return 0, false
		case !ok:
			return 0, false
		case a.Currency != "" && !strings.EqualFold(a.Currency, currency):
			warn("%s ignored: given in %s, the base currency is %s", name, a.Currency, currency)
			return 0, false
		}
		return v, true
	}

	if cs := rep.CreditScore; cs != nil && cs.CurrentCreditRating != nil {
		cr := cs.CurrentCreditRating
		var pv string
		if cr.ProviderValue != nil {
			pv = jsonScalar(cr.ProviderValue.Value)
		}
		rt := m.GradeFor(jsonScalar(cr.CommonValue), pv)
		s.Grade, s.RawScore, s.Scale = rt.Grade, rt.RawScore, rt.Scale
		if rt.Warning != "" {
			warn("%s", rt.Warning)
		}
		if v, ok := amount("credit limit", cr.CreditLimit); ok {
			if v < 0 {
				warn("negative credit limit %s ignored", v)
			} else {
				s.RecommendedLimit = &v
			}
		}
	} else {
		warn("the report has no current credit rating")
	}
	if sum := rep.CompanySummary; sum != nil {
		if st := sum.CompanyStatus; st != nil {
			s.CompanyStatus = bureauCompanyStatus(st.Status)
			if kind := insolvencyWording(st.Status + " " + st.Description); kind != "" {
				s.Insolvency = Insolvency{Open: true, Kind: kind, Nature: st.Description}
			}
		}
		if v, ok := amount("turnover", sum.LatestTurnoverFigure); ok {
			s.Revenue = &v
		}
		if v, ok := amount("equity", sum.LatestShareholdersEquityFigure); ok {
			s.SetEquity(v)
		}
		if sum.MainActivity != nil {
			s.NAF = strings.TrimSpace(sum.MainActivity.Code)
		}
	}
	if id := rep.CompanyIdentification; id != nil && id.BasicInformation != nil {
		bi := id.BasicInformation
		if bi.CompanyRegistrationDate != "" {
			if d, err := parseRegisterDate(bi.CompanyRegistrationDate); err == nil {
				s.CreationDate = &d
			}
		}
		if bi.LegalForm != nil {
			s.LegalCategory = strings.TrimSpace(bi.LegalForm.ProviderCode)
		}
	}
	if len(rep.NegativeInformation) > 0 && !bytes.Equal(rep.NegativeInformation, []byte("null")) {
		var v any
		if err := json.Unmarshal(rep.NegativeInformation, &v); err == nil {
			neg := hasNegative(v)
			s.NegativeInformation = &neg
		}
	}
	return s, nil
}

var statusSeparators = strings.NewReplacer("-", "", " ", "", "_", "")

// bureauCompanyStatus maps Creditsafe's status values ("Active", "NonActive") and common
// synonyms.
func bureauCompanyStatus(status string) string {
	switch strings.ToLower(statusSeparators.Replace(foldFrench(status))) {
	case "active", "actif":
		return StatusActive
	case "nonactive", "inactive", "closed", "dissolved", "ceased", "struckoff", "ferme", "fermee", "radiee", "cessee":
		return StatusClosed
	}
	return StatusUnknown
}

// insolvencyWording finds a proceeding in a status text, English or French ("In Liquidation",
// "Redressement judiciaire", "Administration", "Sauvegarde"); "" when none.
func insolvencyWording(s string) string {
	t := foldFrench(s)
	switch {
	case strings.Contains(t, "liquidation"):
		return KindLiquidation
	case strings.Contains(t, "redressement") || strings.Contains(t, "receivership") || strings.Contains(t, "administration"):
		return KindReceivership
	case strings.Contains(t, "sauvegarde") || strings.Contains(t, "safeguard"):
		return KindSafeguard
	case strings.Contains(t, "insolven") || strings.Contains(t, "bankrupt") || strings.Contains(t, "procedure collective"):
		return KindOther
	}
	return ""
}

// hasNegative reports whether negative information holds anything: a non-empty list, a positive
// number, or true, at any depth. Bureaus shape this section per country (judgments, payment
// remarks, claims), so the rule is structural.
func hasNegative(v any) bool {
	switch x := v.(type) {
	case []any:
		return len(x) > 0
	case map[string]any:
		for _, e := range x {
			if hasNegative(e) {
				return true
			}
		}
	case float64:
		return x > 0
	case bool:
		return x
	}
	return false
}

// jsonScalar returns a JSON string's text or a number's literal; "" for anything else.
func jsonScalar(b json.RawMessage) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	if b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
		return ""
	}
	if b[0] == '-' || (b[0] >= '0' && b[0] <= '9') {
		return string(b)
	}
	return ""
}
