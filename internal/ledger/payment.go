package ledger

import (
	"strconv"
	"strings"
	"time"
)

// Allocation assigns part of a payment to one invoice.
type Allocation struct {
	InvoiceID string `json:"invoice_id"`
	Amount    Money  `json:"amount"`
}

// Payment is money received from a client. Without allocations it is applied to the client's
// oldest open invoices first; what is left stays as unapplied credit on the client.
type Payment struct {
	PaymentID   string       `json:"payment_id"`
	ClientID    string       `json:"client_id"`
	Date        Date         `json:"date"`
	Amount      Money        `json:"amount"`
	Currency    string       `json:"currency"`
	Reference   string       `json:"reference,omitempty"`
	Allocations []Allocation `json:"allocations,omitempty"`
}

// SettlementPrefix starts the id of the payment an invoices import records from a paid_date
// column: "settle:<invoice id>".
const SettlementPrefix = "settle:"

// MaxAllocations bounds the allocations of one payment.
const MaxAllocations = 1000

// Validate checks a payment against the base currency.
func (p *Payment) Validate(baseCurrency string) error {
	var fe fieldErrors
	fe.add(CheckID("payment_id", p.PaymentID))
	if strings.HasPrefix(p.PaymentID, SettlementPrefix) {
		fe.addf("payment_id", "must not start with %q: those ids are reserved for the settlements imports record", SettlementPrefix)
	}
	fe.add(CheckID("client_id", p.ClientID))
	if p.Date < MinDate || p.Date > MaxDate {
		fe.addf("date", "must be a date between %s and %s", MinDate, MaxDate)
	}
	checkAmount(&fe, "amount", p.Amount)
	if p.Currency == "" {
		p.Currency = baseCurrency
	}
	checkCurrency(&fe, "currency", p.Currency, baseCurrency)
	fe.add(checkText("reference", p.Reference, MaxNumberLen, false))
	if len(p.Allocations) > MaxAllocations {
		fe.addf("allocations", "must hold at most %d allocations", MaxAllocations)
	}
	var sum Money
	seen := map[string]bool{}
	for i, a := range p.Allocations {
		f := "allocations[" + strconv.Itoa(i) + "]"
		fe.add(CheckID(f+".invoice_id", a.InvoiceID))
		checkAmount(&fe, f+".amount", a.Amount)
		if seen[a.InvoiceID] {
			fe.addf(f+".invoice_id", "names the same invoice twice")
		}
		seen[a.InvoiceID] = true
		sum += a.Amount
	}
	if sum > p.Amount {
		fe.addf("allocations", "add up to %s, more than the payment's amount %s", sum, p.Amount)
	}
	return fe.err("the payment is not valid")
}

// PaymentView is a stored payment with how it was applied.
type PaymentView struct {
	Payment
	Allocated Money     `json:"allocated"`
	Unapplied Money     `json:"unapplied"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OpenBalance is an invoice's current remaining balance, as the allocation rule sees it.
type OpenBalance struct {
	InvoiceID string
	Balance   Money
}

// AllocateFIFO applies amount to open invoices in the order given (oldest first), never taking an
// invoice below zero, and returns the allocations and what is left unapplied.
func AllocateFIFO(amount Money, open []OpenBalance) ([]Allocation, Money) {
	var out []Allocation
	for _, o := range open {
		if amount <= 0 {
			break
		}
		if o.Balance <= 0 {
			continue
		}
		a := min(amount, o.Balance)
		out = append(out, Allocation{InvoiceID: o.InvoiceID, Amount: a})
		amount -= a
	}
	return out, amount
}
