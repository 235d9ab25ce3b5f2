package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// WriteClientsNDJSON writes clients as an NDJSON clients import.
func WriteClientsNDJSON(w io.Writer, clients []ledger.Client) error {
	enc := json.NewEncoder(w)
	for _, c := range clients {
		if err := enc.Encode(map[string]any{"client_id": c.ClientID, "name": c.Name, "registration_id": c.RegistrationID,
			"country": c.Country, "sector": c.Sector, "directors": c.Directors}); err != nil {
			return err
		}
	}
	return nil
}

// InvoiceCSVHeader is the header WriteInvoicesCSV writes: the field names of an invoices import.
var InvoiceCSVHeader = []string{"invoice_id", "client_id", "number", "kind", "issue_date", "due_date", "amount", "currency", "disputed", "applies_to", "paid_date"}

// WriteInvoicesCSV writes invoices as a CSV invoices import (ISO dates, '.' decimals).
func WriteInvoicesCSV(w io.Writer, invoices []Invoice) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(InvoiceCSVHeader); err != nil {
		return err
	}
	for _, inv := range invoices {
		paid := ""
		if inv.PaidDate != nil {
			paid = inv.PaidDate.String()
		}
		if err := cw.Write([]string{inv.InvoiceID, inv.ClientID, inv.Number, inv.Kind, inv.IssueDate.String(), inv.DueDate.String(),
			inv.Amount.String(), inv.Currency, fmt.Sprint(inv.Disputed), inv.AppliesTo, paid}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WritePaymentsCSV writes payments (one allocation each) as a CSV payments import.
func WritePaymentsCSV(w io.Writer, payments []ledger.Payment) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"payment_id", "client_id", "date", "amount", "currency", "invoice_id"})
	for _, p := range payments {
		inv := ""
		if len(p.Allocations) > 0 {
			inv = p.Allocations[0].InvoiceID
		}
		if err := cw.Write([]string{p.PaymentID, p.ClientID, p.Date.String(), p.Amount.String(), p.Currency, inv}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Summary counts what Seed landed.
type Summary struct {
	Clients, Invoices, CreditNotes, Payments, WriteOffs int
}

func (s Summary) String() string {
	return fmt.Sprintf("%d clients, %d invoices, %d credit notes, %d instalment payments, %d write-offs",
		s.Clients, s.Invoices, s.CreditNotes, s.Payments, s.WriteOffs)
}

// Seed lands a portfolio through the ledger's own import path, as an ERP would.
func Seed(ctx context.Context, svc *ledger.Service, p Portfolio, actor string, progress func(string)) (Summary, error) {
	if progress == nil {
		progress = func(string) {}
	}
	var sum Summary
	step := func(kind, format string, write func(io.Writer) error) (ledger.ImportReport, error) {
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			return ledger.ImportReport{}, err
		}
		opts, err := ledger.ParseImportOptions(ledger.ImportParams{Kind: kind, Format: format, Atomic: true})
		if err != nil {
			return ledger.ImportReport{}, err
		}
		progress("importing " + kind)
		rep, err := svc.Import(ctx, &buf, opts, actor, nil)
		if err == nil && rep.Rejected > 0 {
			err = fmt.Errorf("demo %s import rejected %d rows, first: line %d %s %s", kind, rep.Rejected, rep.Errors[0].Line, rep.Errors[0].Field, rep.Errors[0].Message)
		}
		return rep, err
	}
	if _, err := step(ledger.ImportClients, "ndjson", func(w io.Writer) error { return WriteClientsNDJSON(w, p.Clients) }); err != nil {
		return sum, err
	}
	sum.Clients = len(p.Clients)
	if _, err := step(ledger.ImportInvoices, "csv", func(w io.Writer) error { return WriteInvoicesCSV(w, p.Invoices) }); err != nil {
		return sum, err
	}
	for _, inv := range p.Invoices {
		if inv.Kind == ledger.KindCreditNote {
			sum.CreditNotes++
		} else {
			sum.Invoices++
		}
	}
	if _, err := step(ledger.ImportPayments, "csv", func(w io.Writer) error { return WritePaymentsCSV(w, p.Payments) }); err != nil {
		return sum, err
	}
	sum.Payments = len(p.Payments)
	progress("writing off bad debts")
	for _, w := range p.WriteOffs {
		if _, err := svc.WriteOff(ctx, w.InvoiceID, w.WriteOff, actor); err != nil {
			if fault.Code(err) == fault.Conflict { // already settled: nothing left to write off
				continue
			}
			return sum, fmt.Errorf("write off %s: %w", w.InvoiceID, err)
		}
		sum.WriteOffs++
	}
	return sum, nil
}
