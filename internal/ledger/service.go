package ledger

import (
	"context"
	"io"
	"strings"
)

// Store is what the ledger needs from its storage; postgres.Ledger implements it.
type Store interface {
	PutClient(ctx context.Context, c Client, actor string) (WriteResult, Client, error)
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context, f ClientFilter) ([]Client, string, error)
	PutInvoice(ctx context.Context, inv Invoice, actor string) (WriteResult, InvoiceView, error)
	GetInvoice(ctx context.Context, id string, asOf Date) (InvoiceView, error)
	ListClientInvoices(ctx context.Context, f InvoiceFilter) ([]InvoiceView, string, error)
	WriteOff(ctx context.Context, invoiceID string, w WriteOff, actor string) (InvoiceView, error)
	PutPayment(ctx context.Context, p Payment, actor string) (WriteResult, PaymentView, error)
	GetPayment(ctx context.Context, id string) (PaymentView, error)
	Import(ctx context.Context, rr *RowReader, opts ImportOptions, actor string, progress func(stage string)) (ImportReport, []string, error)
}

// InvoiceFilter selects a client's invoices as of a date: open ones (balance above zero then),
// paid ones (settled by payment on or before it), or all; in issue date order after the cursor.
type InvoiceFilter struct {
	ClientID string
	Status   string
	AsOf     Date
	After    string
	Limit    int
}

// Service validates ledger writes, hands them to the store, and tells the rest of Credo which
// clients changed once a write has committed (scores to invalidate, clients to screen).
type Service struct {
	Store    Store
	Currency string
	// ClientsChanged runs after a committed write that changed the ledger of these clients.
	ClientsChanged func(ctx context.Context, clientIDs []string)
	// ClientIdentityChanged runs after a client's name, registration or directors changed.
	ClientIdentityChanged func(ctx context.Context, c Client)
}

func (s *Service) changed(ctx context.Context, ids ...string) {
	if s.ClientsChanged != nil && len(ids) > 0 {
		s.ClientsChanged(ctx, ids)
	}
}

// PutClient validates and stores a client.
func (s *Service) PutClient(ctx context.Context, c Client, actor string) (WriteResult, Client, error) {
	c.Normalize()
	if err := c.Validate(); err != nil {
		return "", Client{}, err
	}
	res, out, err := s.Store.PutClient(ctx, c, actor)
	if err == nil && res != Unchanged {
		s.changed(ctx, c.ClientID)
		if s.ClientIdentityChanged != nil {
			s.ClientIdentityChanged(ctx, out)
		}
	}
	return res, out, err
}

// GetClient reads a client.
func (s *Service) GetClient(ctx context.Context, id string) (Client, error) {
	return s.Store.GetClient(ctx, id)
}

// ListClients lists clients.
func (s *Service) ListClients(ctx context.Context, f ClientFilter) ([]Client, string, error) {
	if err := CheckClientFilter(&f); err != nil {
		return nil, "", err
	}
	return s.Store.ListClients(ctx, f)
}

// PutInvoice validates and stores an invoice or credit note.
func (s *Service) PutInvoice(ctx context.Context, inv Invoice, actor string) (WriteResult, InvoiceView, error) {
	inv.Normalize()
	if err := inv.Validate(s.Currency); err != nil {
		return "", InvoiceView{}, err
	}
	res, v, err := s.Store.PutInvoice(ctx, inv, actor)
	if err == nil && res != Unchanged {
		s.changed(ctx, inv.ClientID)
	}
	return res, v, err
}

// GetInvoice reads an invoice as of a date.
func (s *Service) GetInvoice(ctx context.Context, id string, asOf Date) (InvoiceView, error) {
	return s.Store.GetInvoice(ctx, id, asOf)
}

// ListClientInvoices lists a client's invoices.
func (s *Service) ListClientInvoices(ctx context.Context, f InvoiceFilter) ([]InvoiceView, string, error) {
	var fe fieldErrors
	switch f.Status {
	case "":
		f.Status = "all"
	case "open", "paid", "all":
	default:
		fe.addf("status", "must be open, paid or all")
	}
	if f.Limit == 0 {
		f.Limit = 500
	}
	if f.Limit < 1 || f.Limit > 5000 {
		fe.addf("limit", "must be between 1 and 5000")
	}
	if err := fe.err("the filter is not valid"); err != nil {
		return nil, "", err
	}
	return s.Store.ListClientInvoices(ctx, f)
}

// WriteOff writes an invoice's remaining balance off.
func (s *Service) WriteOff(ctx context.Context, invoiceID string, w WriteOff, actor string) (InvoiceView, error) {
	if err := w.Validate(); err != nil {
		return InvoiceView{}, err
	}
	v, err := s.Store.WriteOff(ctx, invoiceID, w, actor)
	if err == nil {
		s.changed(ctx, v.ClientID)
	}
	return v, err
}

// PutPayment validates and stores a payment.
func (s *Service) PutPayment(ctx context.Context, p Payment, actor string) (WriteResult, PaymentView, error) {
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if err := p.Validate(s.Currency); err != nil {
		return "", PaymentView{}, err
	}
	res, v, err := s.Store.PutPayment(ctx, p, actor)
	if err == nil && res != Unchanged {
		s.changed(ctx, p.ClientID)
	}
	return res, v, err
}

// GetPayment reads a payment.
func (s *Service) GetPayment(ctx context.Context, id string) (PaymentView, error) {
	return s.Store.GetPayment(ctx, id)
}

// Import reads a CSV or NDJSON file and lands it (see ImportOptions).
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions, actor string, progress func(string)) (ImportReport, error) {
	rr, err := NewRowReader(r, opts, s.Currency)
	if err != nil {
		return ImportReport{Kind: opts.Kind}, err
	}
	rep, changed, err := s.Store.Import(ctx, rr, opts, actor, progress)
	if err == nil {
		s.changed(ctx, changed...)
	}
	return rep, err
}
