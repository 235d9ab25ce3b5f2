// Package solvency pulls what public registers and credit bureaus know about a company (BODACC
// insolvency proceedings, SIRENE company status, bureau ratings, bureau CSV exports), normalises
// it into snapshots, and merges the latest snapshot per provider into the view that scoring and
// the decision policy read. A provider call goes through one guarded HTTP path (retries with
// backoff, per-request timeout, body size limit, circuit breaker), so a slow or dead provider
// never holds anything up: decisions read stored snapshots, never a provider.
package solvency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Provider is one source of solvency data. Fetch asks it about one company now; it never reads a
// cache. Implementations are safe for concurrent use.
type Provider interface {
	// Name is the provider's stable identifier ("bodacc", "sirene", "bureau"), stored with each
	// snapshot.
	Name() string
	// Fetch returns a normalised snapshot of what the provider knows about the company. It fails
	// with ErrUnsupported when the provider cannot look this company up (wrong country, no
	// registration number), with ErrCircuitOpen while the provider is considered down, and with a
	// *FetchError for anything that went wrong on the way.
	Fetch(ctx context.Context, c Company) (Snapshot, error)
}

// Company is what a provider needs to find a client's company.
type Company struct {
	ClientID string `json:"client_id"`
	// RegistrationID is a SIREN (9 digits), a SIRET (14 digits) or a French VAT number; spaces,
	// dots and dashes are ignored.
	RegistrationID string `json:"registration_id"`
	Name           string `json:"name"`
	// Country is the ISO 3166-1 alpha-2 code; empty is taken as FR when the registration id is a
	// valid SIREN or SIRET, since French numbers are the only ones these providers know.
	Country string `json:"country"`
}

// Company statuses.
const (
	StatusActive  = "active"
	StatusClosed  = "closed"
	StatusUnknown = "unknown"
)

// Insolvency proceeding kinds (French Code de commerce, book VI).
const (
	KindSafeguard    = "safeguard"    // procédure de sauvegarde (incl. accelerated variants)
	KindReceivership = "receivership" // redressement judiciaire
	KindLiquidation  = "liquidation"  // liquidation judiciaire
	KindOther        = "other"        // any other collective proceeding, or one whose kind is not stated
)

// Insolvency is the state of the company's latest collective proceeding.
type Insolvency struct {
	// Open is true while a proceeding runs without an adopted continuation plan: observation
	// period, liquidation, or a sale plan (the debtor itself does not continue).
	Open bool   `json:"open"`
	Kind string `json:"kind,omitempty"`
	// JudgmentDate is the date of the judgment that put the proceeding in its current state
	// (opening, conversion, plan); for a closed proceeding, that of its last judgment before the
	// closure.
	JudgmentDate *ledger.Date `json:"judgment_date,omitempty"`
	// ClosedDate is set when the latest proceeding ended (clôture, end of proceeding).
	ClosedDate *ledger.Date `json:"closed_date,omitempty"`
	// Plan is true when a safeguard or recovery plan was adopted: the company continues under it.
	Plan bool `json:"plan,omitempty"`
	// Nature is the provider's own wording of that judgment, kept for explanations.
	Nature string `json:"nature,omitempty"`
}

// Known tells whether any proceeding was seen at all.
func (i Insolvency) Known() bool {
	return i.Open || i.Plan || i.ClosedDate != nil || i.Kind != ""
}

// Snapshot is one provider's normalised answer about one company at one time.
type Snapshot struct {
	Provider  string    `json:"provider"`
	ClientID  string    `json:"client_id"`
	FetchedAt time.Time `json:"fetched_at"`
	// NotFound is true when the provider answered that it does not know the company: a valid
	// answer (and a risk signal), not a failure.
	NotFound      bool   `json:"not_found,omitempty"`
	CompanyStatus string `json:"company_status"`
	// StatusDate is when the current status began, when the provider says (SIRENE closures).
	StatusDate *ledger.Date `json:"status_date,omitempty"`
	Insolvency Insolvency   `json:"insolvency"`
	// Grade is Credo's grade, 1 (best) to 10 (worst), mapped from the provider's scale; nil when the
	// provider gives none.
	Grade *int `json:"grade"`
	// RawScore and Scale keep the provider's own value and what it means ("B" on "creditsafe
	// commonValue A-E").
	RawScore            string        `json:"raw_score,omitempty"`
	Scale               string        `json:"scale,omitempty"`
	RecommendedLimit    *ledger.Money `json:"recommended_limit"`
	Revenue             *ledger.Money `json:"revenue"`
	Equity              *ledger.Money `json:"equity"`
	NegativeEquity      *bool         `json:"negative_equity"`
	NegativeInformation *bool         `json:"negative_information,omitempty"`
	CreationDate        *ledger.Date  `json:"creation_date"`
	LegalCategory       string        `json:"legal_category,omitempty"`
	NAF                 string        `json:"naf,omitempty"`
	SizeBand            string        `json:"size_band,omitempty"`
	// Warnings list what normalisation had to drop or guess (an amount in another currency, an
	// unknown judgment wording), so a human can check.
	Warnings []string `json:"warnings,omitempty"`
	// Raw is the provider's payload as received (JSON), for audit and re-normalisation.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// SetEquity records the equity and derives NegativeEquity from it.
func (s *Snapshot) SetEquity(m ledger.Money) {
	s.Equity = &m
	neg := m < 0
	s.NegativeEquity = &neg
}

// Validate checks the invariants of a snapshot, for rehydration from storage and for imports.
func (s Snapshot) Validate() error {
	var fe []fault.FieldError
	if s.Provider == "" {
		fe = append(fe, fault.Field("provider", "must not be empty"))
	}
	if s.FetchedAt.IsZero() {
		fe = append(fe, fault.Field("fetched_at", "must be set"))
	}
	switch s.CompanyStatus {
	case StatusActive, StatusClosed, StatusUnknown:
	default:
		fe = append(fe, fault.Field("company_status", "must be active, closed or unknown"))
	}
	switch s.Insolvency.Kind {
	case "", KindSafeguard, KindReceivership, KindLiquidation, KindOther:
	default:
		fe = append(fe, fault.Field("insolvency.kind", "must be safeguard, receivership, liquidation or other"))
	}
	if s.Insolvency.Open && s.Insolvency.Kind == "" {
		fe = append(fe, fault.Field("insolvency.kind", "must be set when a proceeding is open"))
	}
	if s.Grade != nil && (*s.Grade < 1 || *s.Grade > 10) {
		fe = append(fe, fault.Field("grade", "must be between 1 and 10"))
	}
	for name, m := range map[string]*ledger.Money{"recommended_limit": s.RecommendedLimit, "revenue": s.Revenue, "equity": s.Equity} {
		if m != nil && (*m > ledger.MaxAmount || *m < -ledger.MaxAmount) {
			fe = append(fe, fault.Field(name, "is out of range"))
		}
	}
	if s.RecommendedLimit != nil && *s.RecommendedLimit < 0 {
		fe = append(fe, fault.Field("recommended_limit", "must not be negative"))
	}
	if s.Equity != nil && (s.NegativeEquity == nil || *s.NegativeEquity != (*s.Equity < 0)) {
		fe = append(fe, fault.Field("negative_equity", "must match equity"))
	}
	if len(fe) > 0 {
		return fault.Validation("the solvency snapshot is not valid", fe...)
	}
	return nil
}

// Errors a Fetch can return; test them with errors.Is.
var (
	// ErrUnsupported: the provider cannot look this company up (not French, no SIREN). Not a
	// provider failure: it neither trips the breaker nor counts as a failed fetch.
	ErrUnsupported = errors.New("provider does not cover this company")
	// ErrCircuitOpen: the provider failed repeatedly and is skipped until its cool-down ends.
	ErrCircuitOpen = errors.New("provider circuit open")
	// ErrMalformed: the payload is not what the provider documents (not JSON, wrong shape, wrong
	// content type). No snapshot is produced, so the last good one stays.
	ErrMalformed = errors.New("malformed provider response")
	// ErrTooLarge: the response body passed the size limit.
	ErrTooLarge = errors.New("provider response too large")
	// ErrRateLimited: the provider answered 429 and retries ran out or its Retry-After was too long.
	ErrRateLimited = errors.New("provider rate limit")
)

// FetchError describes a failed provider call: which provider, the last HTTP status (0 for
// network errors), how many attempts were made, and the cause.
type FetchError struct {
	Provider string
	Status   int
	Attempts int
	Err      error
}

func (e *FetchError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("solvency provider %s: HTTP %d after %d attempt(s): %v", e.Provider, e.Status, e.Attempts, e.Err)
	}
	return fmt.Sprintf("solvency provider %s: after %d attempt(s): %v", e.Provider, e.Attempts, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// unavailable wraps err as a fault Unavailable error, so the HTTP layer answers 503 on a refresh
// that could not reach the provider.
func unavailable(provider string, err error) error {
	return &fault.Error{Code: fault.Unavailable, Message: fmt.Sprintf("solvency provider %s is unavailable", provider), Err: err}
}
