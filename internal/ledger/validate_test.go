package ledger

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/fault"
)

func fieldsOf(err error) []string {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return nil
	}
	var out []string
	for _, f := range fe.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestRegistrationKind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"552100554", "siren"},      // a real SIREN (Luhn valid)
		{"552 100 554", "siren"},    // as people type it
		{"552100555", ""},           // bad check digit
		{"55210055400013", "siret"}, // a real SIRET
		{"55210055400014", ""},      // bad check digit
		{"35600000000048", "siret"}, // La Poste: digit sum multiple of 5
		{"FR40303265045", "vat"},    // key 40 = (12 + 3 * (303265045 mod 97)) mod 97
		{"FR41303265045", ""},       // wrong key
		{"DE123456789", "vat"},
		{"BE0123456789", "vat"},
		{"NL123456789B01", "vat"},
		{"XX123456789", ""},
		{"12345", ""},
	}
	for _, tt := range tests {
		if got := RegistrationKind(NormalizeRegistrationID(tt.in)); got != tt.want {
			t.Errorf("RegistrationKind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := SIREN("55210055400013"); got != "552100554" {
		t.Errorf("SIREN(siret) = %q", got)
	}
	if got := SIREN("FR40303265045"); got != "303265045" {
		t.Errorf("SIREN(vat) = %q", got)
	}
}

func TestClientValidate(t *testing.T) {
	ok := Client{ClientID: "C-1", Name: "Dupont SAS", Country: "fr", RegistrationID: "552 100 554"}
	ok.Normalize()
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid client refused: %v", err)
	}
	if ok.Country != "FR" || ok.RegistrationID != "552100554" || ok.Directors == nil {
		t.Errorf("not normalised: %+v", ok)
	}
	tests := []struct {
		name   string
		c      Client
		fields []string
	}{
		{"bad id", Client{ClientID: "a b", Name: "x", Country: "FR"}, []string{"client_id"}},
		{"no name", Client{ClientID: "a", Country: "FR"}, []string{"name"}},
		{"long name", Client{ClientID: "a", Name: strings.Repeat("é", 201), Country: "FR"}, []string{"name"}},
		{"no country", Client{ClientID: "a", Name: "x"}, []string{"country"}},
		{"bad country", Client{ClientID: "a", Name: "x", Country: "XZ"}, []string{"country"}},
		{"bad siren", Client{ClientID: "a", Name: "x", Country: "FR", RegistrationID: "123456789"}, []string{"registration_id"}},
		{"control chars", Client{ClientID: "a", Name: "x\x00y", Country: "FR"}, []string{"name"}},
		{"empty director", Client{ClientID: "a", Name: "x", Country: "FR", Directors: []string{"Jean", " "}}, []string{"directors[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.Normalize()
			if got := fieldsOf(c.Validate()); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
	auto := Client{ClientID: "a", Name: "a", AutoCreated: true}
	if err := auto.Validate(); err != nil {
		t.Errorf("an auto-created client needs no country: %v", err)
	}
	verbatim := Client{ClientID: "a", Name: `O'Brien "Ltd"; DROP TABLE clients;-- 🚀`, Country: "IE"}
	if err := verbatim.Validate(); err != nil {
		t.Errorf("quotes, SQL and emoji are data: %v", err)
	}
}

func TestInvoiceValidate(t *testing.T) {
	base := func() Invoice {
		return Invoice{InvoiceID: "I1", ClientID: "C1", IssueDate: DateOf(2026, 1, 10), DueDate: DateOf(2026, 2, 9), Amount: 10000, Currency: "eur"}
	}
	inv := base()
	inv.Normalize()
	if err := inv.Validate("EUR"); err != nil || inv.Kind != KindInvoice {
		t.Fatalf("valid invoice refused: %v (kind %q)", err, inv.Kind)
	}
	tests := []struct {
		name   string
		edit   func(*Invoice)
		fields []string
	}{
		{"due before issue", func(i *Invoice) { i.DueDate = DateOf(2026, 1, 9) }, []string{"due_date"}},
		{"zero amount", func(i *Invoice) { i.Amount = 0 }, []string{"amount"}},
		{"negative amount", func(i *Invoice) { i.Amount = -5 }, []string{"amount"}},
		{"absurd amount", func(i *Invoice) { i.Amount = MaxAmount + 1 }, []string{"amount"}},
		{"other currency", func(i *Invoice) { i.Currency = "USD" }, []string{"currency"}},
		{"bad kind", func(i *Invoice) { i.Kind = "refund" }, []string{"kind"}},
		{"applies_to on invoice", func(i *Invoice) { i.AppliesTo = "I0" }, []string{"applies_to"}},
		{"dates out of range", func(i *Invoice) { i.IssueDate, i.DueDate = DateOf(1800, 1, 1), DateOf(3100, 1, 1) }, []string{"issue_date", "due_date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := base()
			tt.edit(&i)
			i.Normalize()
			if got := fieldsOf(i.Validate("EUR")); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestPaymentValidate(t *testing.T) {
	p := Payment{PaymentID: "P1", ClientID: "C1", Date: DateOf(2026, 1, 1), Amount: 1000,
		Allocations: []Allocation{{InvoiceID: "I1", Amount: 600}, {InvoiceID: "I2", Amount: 500}}}
	if got := fieldsOf(p.Validate("EUR")); !slices.Equal(got, []string{"allocations"}) {
		t.Errorf("over-allocated payment: fields %v", got)
	}
	if p.Currency != "EUR" {
		t.Errorf("currency defaults to the base one, got %q", p.Currency)
	}
	p.Allocations = []Allocation{{InvoiceID: "I1", Amount: 100}, {InvoiceID: "I1", Amount: 100}}
	if got := fieldsOf(p.Validate("EUR")); !slices.Equal(got, []string{"allocations[1].invoice_id"}) {
		t.Errorf("same invoice twice: fields %v", got)
	}
}

func TestAllocateFIFO(t *testing.T) {
	open := []OpenBalance{{"A", 300}, {"B", 0}, {"C", 500}, {"D", 200}}
	got, left := AllocateFIFO(700, open)
	want := []Allocation{{"A", 300}, {"C", 400}}
	if !slices.Equal(got, want) || left != 0 {
		t.Errorf("AllocateFIFO(700) = %v left %d, want %v left 0", got, left, want)
	}
	got, left = AllocateFIFO(1500, open)
	if len(got) != 3 || left != 500 {
		t.Errorf("AllocateFIFO(1500) = %v left %d, want 3 allocations and 500 unapplied", got, left)
	}
}

func TestBalanceStatusSettlement(t *testing.T) {
	inv := Invoice{Kind: KindInvoice, IssueDate: DateOf(2026, 1, 1), Amount: 1000}
	moves := []Movement{
		{Kind: MovePayment, Date: DateOf(2026, 1, 20), Amount: 400},
		{Kind: MoveCreditNote, Date: DateOf(2026, 1, 25), Amount: 100},
		{Kind: MovePayment, Date: DateOf(2026, 2, 10), Amount: 500},
	}
	for _, tt := range []struct {
		d       Date
		balance Money
		status  string
	}{
		{DateOf(2025, 12, 31), 1000, StatusNotIssued},
		{DateOf(2026, 1, 19), 1000, StatusOpen},
		{DateOf(2026, 1, 20), 600, StatusOpen},
		{DateOf(2026, 1, 25), 500, StatusOpen},
		{DateOf(2026, 2, 10), 0, StatusPaid},
	} {
		if b := BalanceAt(inv.Amount, moves, tt.d); b != tt.balance {
			t.Errorf("BalanceAt(%s) = %s, want %s", tt.d, b, tt.balance)
		}
		if s := StatusAt(&inv, moves, tt.d); s != tt.status {
			t.Errorf("StatusAt(%s) = %s, want %s", tt.d, s, tt.status)
		}
	}
	settled, paid := Settlement(inv.Amount, moves)
	if settled == nil || paid == nil || *paid != DateOf(2026, 2, 10) {
		t.Errorf("Settlement = %v %v, want paid 2026-02-10", settled, paid)
	}
	wo := []Movement{{Kind: MovePayment, Date: DateOf(2026, 1, 20), Amount: 400}, {Kind: MoveWriteOff, Date: DateOf(2026, 6, 1), Amount: 600}}
	settled, paid = Settlement(inv.Amount, wo)
	if settled == nil || *settled != DateOf(2026, 6, 1) || paid != nil {
		t.Errorf("written off: settled %v paid %v, want settled 2026-06-01 and no paid date", settled, paid)
	}
	if s := StatusAt(&inv, wo, DateOf(2026, 6, 1)); s != StatusWrittenOff {
		t.Errorf("status after write-off = %s", s)
	}
	if settled, paid := Settlement(inv.Amount, moves[:2]); settled != nil || paid != nil {
		t.Error("a partly paid invoice has no settlement date")
	}
}
