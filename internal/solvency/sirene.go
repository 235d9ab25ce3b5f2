package solvency

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// DefaultSIRENERatePerMinute is INSEE's published quota for the Sirene API's public plan.
const DefaultSIRENERatePerMinute = 30

// SIRENE reads a legal unit from INSEE's Sirene API 3.11 (/siren/{siren}): administrative state,
// creation date, legal category, main activity (NAF) and headcount band.
type SIRENE struct {
	base string
	key  string
	f    *fetcher
}

// NewSIRENE builds the adapter for the API at baseURL (e.g. https://api.insee.fr/api-sirene/3.11)
// with an integration key. ratePerMinute caps the requests this process sends (0: the default 30),
// retries included, since INSEE answers 429 beyond its quota.
func NewSIRENE(baseURL, key string, ratePerMinute int, opts HTTPOptions) (*SIRENE, error) {
	base, err := checkBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("SIRENE: %w", err)
	}
	if strings.TrimSpace(key) == "" {
		return nil, fmt.Errorf("SIRENE: an API key is required")
	}
	if ratePerMinute <= 0 {
		ratePerMinute = DefaultSIRENERatePerMinute
	}
	lim := rate.NewLimiter(rate.Every(time.Minute/time.Duration(ratePerMinute)), 1)
	return &SIRENE{base: base, key: key, f: newFetcher("sirene", opts, lim)}, nil
}

// Name implements Provider.
func (s *SIRENE) Name() string { return "sirene" }

// BreakerState reports the provider's circuit breaker state.
func (s *SIRENE) BreakerState() BreakerState { return s.f.BreakerState() }

// Fetch implements Provider. An unknown SIREN (404) is an answer: a snapshot with NotFound set.
func (s *SIRENE) Fetch(ctx context.Context, c Company) (Snapshot, error) {
	siren, err := c.SIREN()
	if err != nil {
		s.f.fetched("unsupported", s.f.opts.Now())
		return Snapshot{}, err
	}
	return s.f.run(ctx, c, func(ctx context.Context) (Snapshot, error) {
		h := http.Header{}
		h.Set("X-INSEE-Api-Key-Integration", s.key)
		resp, err := s.f.getJSON(ctx, s.base+"/siren/"+siren, h, true)
		if err != nil {
			return Snapshot{}, err
		}
		if resp.Status == http.StatusNotFound {
			return Snapshot{NotFound: true, CompanyStatus: StatusUnknown,
				Warnings: []string{fmt.Sprintf("SIREN %s is unknown to the Sirene register", siren)}}, nil
		}
		// INSEE answers 301 for a duplicate legal unit, pointing to the one that remains.
		answered := siren
		if resp.URL != nil {
			if last := path.Base(resp.URL.Path); last != siren && len(last) == 9 && allDigits(last) {
				answered = last
			}
		}
		snap, err := parseSIRENE(resp.Body, answered)
		if err == nil && answered != siren {
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("SIREN %s is a duplicate: Sirene answered for %s", siren, answered))
		}
		return snap, err
	})
}

type sireneResponse struct {
	UniteLegale *struct {
		Siren                       string          `json:"siren"`
		StatutDiffusionUniteLegale  string          `json:"statutDiffusionUniteLegale"`
		DateCreationUniteLegale     *string         `json:"dateCreationUniteLegale"`
		TrancheEffectifsUniteLegale *string         `json:"trancheEffectifsUniteLegale"`
		PeriodesUniteLegale         []sirenePeriode `json:"periodesUniteLegale"`
	} `json:"uniteLegale"`
}

type sirenePeriode struct {
	DateFin                       *string `json:"dateFin"`
	DateDebut                     *string `json:"dateDebut"`
	EtatAdministratifUniteLegale  string  `json:"etatAdministratifUniteLegale"`
	CategorieJuridiqueUniteLegale *string `json:"categorieJuridiqueUniteLegale"`
	ActivitePrincipaleUniteLegale *string `json:"activitePrincipaleUniteLegale"`
}

// parseSIRENE normalises a /siren answer. The current period is the one without an end date
// (INSEE lists it first).
func parseSIRENE(body []byte, siren string) (Snapshot, error) {
	var r sireneResponse
	if err := decodeJSON(body, &r); err != nil {
		return Snapshot{}, err
	}
	u := r.UniteLegale
	if u == nil {
		return Snapshot{}, fmt.Errorf("%w: Sirene answer without uniteLegale", ErrMalformed)
	}
	if u.Siren != siren {
		return Snapshot{}, fmt.Errorf("%w: Sirene answered for SIREN %q, asked %s", ErrMalformed, u.Siren, siren)
	}
	s := Snapshot{CompanyStatus: StatusUnknown, Raw: body}
	if u.StatutDiffusionUniteLegale == "P" {
		s.Warnings = append(s.Warnings, "the legal unit is partially non-diffusible: some fields are withheld")
	}
	if v := sireneValue(u.DateCreationUniteLegale); v != "" {
		if d, err := parseRegisterDate(v); err == nil {
			s.CreationDate = &d
		} else {
			s.Warnings = append(s.Warnings, fmt.Sprintf("creation date %q unreadable", v))
		}
	}
	s.SizeBand = sireneValue(u.TrancheEffectifsUniteLegale)
	if len(u.PeriodesUniteLegale) == 0 {
		s.Warnings = append(s.Warnings, "the legal unit has no period: status unknown")
		return s, nil
	}
	cur := u.PeriodesUniteLegale[0]
	for _, p := range u.PeriodesUniteLegale {
		if p.DateFin == nil || *p.DateFin == "" {
			cur = p
			break
		}
	}
	switch cur.EtatAdministratifUniteLegale {
	case "A":
		s.CompanyStatus = StatusActive
	case "C":
		s.CompanyStatus = StatusClosed
		if v := sireneValue(cur.DateDebut); v != "" {
			if d, err := parseRegisterDate(v); err == nil {
				s.StatusDate = &d
			}
		}
	default:
		s.Warnings = append(s.Warnings, fmt.Sprintf("administrative state %q not recognised", cur.EtatAdministratifUniteLegale))
	}
	s.LegalCategory = sireneValue(cur.CategorieJuridiqueUniteLegale)
	s.NAF = sireneValue(cur.ActivitePrincipaleUniteLegale)
	return s, nil
}

// sireneValue reads an optional field; "[ND]" marks a value withheld from diffusion.
func sireneValue(p *string) string {
	if p == nil || *p == "[ND]" {
		return ""
	}
	return strings.TrimSpace(*p)
}
