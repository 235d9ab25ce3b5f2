package decision

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// MaxQuoteAmount bounds a quote: beyond ten billion an amount is a typing error, not a quote.
const MaxQuoteAmount ledger.Money = 10_000_000_000_00

// MaxTermsDays bounds requested payment terms.
const MaxTermsDays = 365

// Request is a quote-time decision request from the CRM.
type Request struct {
	QuoteID            string       `json:"quote_id"`
	ClientID           string       `json:"client_id"`
	Amount             ledger.Money `json:"amount"`
	Currency           string       `json:"currency"`
	RequestedTermsDays int          `json:"requested_terms_days"`
	EndOfMonth         bool         `json:"end_of_month"`
	OpenOrdersAmount   ledger.Money `json:"open_orders_amount"`
	// Client registers a prospect the first time it is quoted.
	Client *Prospect `json:"client,omitempty"`
}

// Prospect is a client registered inline by its first quote.
type Prospect struct {
	Name           string `json:"name"`
	RegistrationID string `json:"registration_id,omitempty"`
	Country        string `json:"country"`
}

// Validate checks a request against the base currency.
func (r *Request) Validate(baseCurrency string) error {
	var fe []fault.FieldError
	add := func(e *fault.FieldError) {
		if e != nil {
			fe = append(fe, *e)
		}
	}
	add(ledger.CheckID("quote_id", r.QuoteID))
	add(ledger.CheckID("client_id", r.ClientID))
	r.Currency = strings.ToUpper(strings.TrimSpace(r.Currency))
	switch {
	case r.Amount <= 0:
		fe = append(fe, fault.Field("amount", "must be greater than zero"))
	case r.Amount > MaxQuoteAmount:
		fe = append(fe, fault.Field("amount", "must be at most %s", MaxQuoteAmount))
	}
	switch {
	case r.Currency == "":
		fe = append(fe, fault.Field("currency", "is required (%s)", baseCurrency))
	case r.Currency != baseCurrency:
		fe = append(fe, fault.Field("currency", "must be %s, the base currency of this deployment", baseCurrency))
	}
	if r.RequestedTermsDays < 0 || r.RequestedTermsDays > MaxTermsDays {
		fe = append(fe, fault.Field("requested_terms_days", "must be between 0 and %d", MaxTermsDays))
	}
	switch {
	case r.OpenOrdersAmount < 0:
		fe = append(fe, fault.Field("open_orders_amount", "must not be negative"))
	case r.OpenOrdersAmount > MaxQuoteAmount:
		fe = append(fe, fault.Field("open_orders_amount", "must be at most %s", MaxQuoteAmount))
	}
	if len(fe) > 0 {
		return fault.Validation("the decision request is not valid", fe...)
	}
	return nil
}

// Hash identifies the request's content: the same quote_id sent again with another hash is a
// conflict.
func (r *Request) Hash() string {
	b, _ := json.Marshal(r)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// prospect turns the inline client into a ledger client to register.
func (r *Request) prospect() ledger.Client {
	return ledger.Client{ClientID: r.ClientID, Name: r.Client.Name, RegistrationID: r.Client.RegistrationID, Country: r.Client.Country}
}
