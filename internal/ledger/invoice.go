package ledger

import (
	"strings"
	"time"
)

// Invoice kinds: a credit note reduces what the client owes.
const (
	KindInvoice    = "invoice"
	KindCreditNote = "credit_note"
)

// MaxNumberLen bounds an invoice's printed number.
const MaxNumberLen = 64

// Invoice is a claim on a client (or, with kind credit_note, a reduction of one).
type Invoice struct {
	InvoiceID string `json:"invoice_id"`
	ClientID  string `json:"client_id"`
	Number    string `json:"number,omitempty"`
	Kind      string `json:"kind"`
	IssueDate Date   `json:"issue_date"`
	DueDate   Date   `json:"due_date"`
	Amount    Money  `json:"amount"`
	Currency  string `json:"currency"`
	Disputed  bool   `json:"disputed"`
	QuoteID   string `json:"quote_id,omitempty"`
	// AppliesTo names the invoice a credit note reduces; without it the credit note goes to the
	// client's oldest open invoices first, like a payment.
	AppliesTo string `json:"applies_to,omitempty"`
}

// Normalize puts the fields in their stored form.
func (inv *Invoice) Normalize() {
	inv.Number = strings.TrimSpace(inv.Number)
	inv.Currency = strings.ToUpper(strings.TrimSpace(inv.Currency))
	if inv.Kind == "" {
		inv.Kind = KindInvoice
	}
}

// Validate checks a normalised invoice against the deployment's base currency.
func (inv *Invoice) Validate(baseCurrency string) error {
	var fe fieldErrors
	fe.add(CheckID("invoice_id", inv.InvoiceID))
	if strings.HasPrefix(inv.InvoiceID, SettlementPrefix) {
		fe.addf("invoice_id", "must not start with %q (reserved)", SettlementPrefix)
	}
	fe.add(CheckID("client_id", inv.ClientID))
	fe.add(checkText("number", inv.Number, MaxNumberLen, false))
	if inv.Kind != KindInvoice && inv.Kind != KindCreditNote {
		fe.addf("kind", "must be invoice or credit_note")
	}
	if inv.IssueDate < MinDate || inv.IssueDate > MaxDate {
		fe.addf("issue_date", "must be a date between %s and %s", MinDate, MaxDate)
	}
	if inv.DueDate < MinDate || inv.DueDate > MaxDate {
		fe.addf("due_date", "must be a date between %s and %s", MinDate, MaxDate)
	} else if inv.DueDate < inv.IssueDate {
		fe.addf("due_date", "must be on or after issue_date (%s)", inv.IssueDate)
	}
	checkAmount(&fe, "amount", inv.Amount)
	checkCurrency(&fe, "currency", inv.Currency, baseCurrency)
	if inv.QuoteID != "" {
		fe.add(CheckID("quote_id", inv.QuoteID))
	}
	if inv.AppliesTo != "" {
		if inv.Kind != KindCreditNote {
			fe.addf("applies_to", "is only for credit notes")
		}
		fe.add(CheckID("applies_to", inv.AppliesTo))
	}
	return fe.err("the invoice is not valid")
}

func checkAmount(fe *fieldErrors, field string, m Money) {
	switch {
	case m <= 0:
		fe.addf(field, "must be greater than zero")
	case m > MaxAmount:
		fe.addf(field, "must be at most %s", MaxAmount)
	}
}

func checkCurrency(fe *fieldErrors, field, cur, base string) {
	switch {
	case cur == "":
		fe.addf(field, "is required (%s)", base)
	case cur != base:
		fe.addf(field, "must be %s, the base currency of this deployment", base)
	}
}

// Movement kinds reduce an invoice's balance.
const (
	MovePayment    = "payment"
	MoveCreditNote = "credit_note"
	MoveWriteOff   = "write_off"
)

// Movement is one dated reduction of an invoice's balance.
type Movement struct {
	Kind     string `json:"kind"`
	SourceID string `json:"source_id"`
	Date     Date   `json:"date"`
	Amount   Money  `json:"amount"`
}

// Invoice statuses as of a date.
const (
	StatusOpen       = "open"
	StatusPaid       = "paid"
	StatusWrittenOff = "written_off"
	StatusCredited   = "credited"
	StatusNotIssued  = "not_issued"
)

// InvoiceView is an invoice with its dated history and its balance as of a date.
type InvoiceView struct {
	Invoice
	AsOf      Date       `json:"as_of"`
	Balance   Money      `json:"balance"`
	Status    string     `json:"status"`
	PaidDate  *Date      `json:"paid_date"`
	SettledOn *Date      `json:"settled_on"`
	Movements []Movement `json:"movements"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// BalanceAt is the amount minus the movements dated on or before d (never below zero).
func BalanceAt(amount Money, moves []Movement, d Date) Money {
	b := amount
	for _, m := range moves {
		if m.Date <= d {
			b -= m.Amount
		}
	}
	return max(b, 0)
}

// StatusAt derives an invoice's status as of d from its history.
func StatusAt(inv *Invoice, moves []Movement, d Date) string {
	if inv.Kind == KindCreditNote {
		return StatusCredited
	}
	if inv.IssueDate > d {
		return StatusNotIssued
	}
	if BalanceAt(inv.Amount, moves, d) > 0 {
		return StatusOpen
	}
	last := Date(MinDate)
	for _, m := range moves {
		if m.Date <= d && m.Date > last {
			last = m.Date
		}
	}
	paid, writtenOff := false, false
	for _, m := range moves {
		if m.Date != last {
			continue
		}
		switch m.Kind {
		case MovePayment:
			paid = true
		case MoveWriteOff:
			writtenOff = true
		}
	}
	switch {
	case writtenOff:
		return StatusWrittenOff
	case paid:
		return StatusPaid
	}
	return StatusCredited
}

// Settlement derives settled_on (the date the balance reached zero) and paid_date (the same date,
// when a payment brought it there: a payment is among that day's movements and no write-off is)
// from the full history.
func Settlement(amount Money, moves []Movement) (settledOn, paidDate *Date) {
	var total Money
	last := Date(MinDate)
	for _, m := range moves {
		total += m.Amount
		if m.Date > last {
			last = m.Date
		}
	}
	if total < amount || len(moves) == 0 {
		return nil, nil
	}
	s := last
	paid := false
	for _, m := range moves {
		if m.Date != last {
			continue
		}
		switch m.Kind {
		case MovePayment:
			paid = true
		case MoveWriteOff:
			return &s, nil
		}
	}
	if paid {
		p := last
		return &s, &p
	}
	return &s, nil
}

// WriteOff writes an invoice's remaining balance off as bad debt on a date.
type WriteOff struct {
	Date   Date   `json:"date"`
	Reason string `json:"reason"`
}

// MaxReasonLen bounds a write-off's reason.
const MaxReasonLen = 500

// Validate checks a write-off.
func (w *WriteOff) Validate() error {
	var fe fieldErrors
	if w.Date < MinDate || w.Date > MaxDate {
		fe.addf("date", "must be a date between %s and %s", MinDate, MaxDate)
	}
	w.Reason = strings.TrimSpace(w.Reason)
	fe.add(checkText("reason", w.Reason, MaxReasonLen, true))
	return fe.err("the write-off is not valid")
}
