package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// WriteResultHeader tells an idempotent PUT's caller whether it created, updated or changed nothing.
const WriteResultHeader = "Credo-Write-Result"

func writeStatus(c echo.Context, res ledger.WriteResult) int {
	c.Response().Header().Set(WriteResultHeader, string(res))
	if res == ledger.Created {
		return http.StatusCreated
	}
	return http.StatusOK
}

// required collects "is required" errors for absent fields.
type required []fault.FieldError

func (r *required) check(present bool, field string) {
	if !present {
		*r = append(*r, fault.Field(field, "is required"))
	}
}

func (r required) err() error {
	if len(r) == 0 {
		return nil
	}
	return fault.Validation("required fields are missing", r...)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// checkPathMatch refuses a body id that contradicts the path's.
func checkPathMatch(field, path string, body *string) error {
	if body != nil && *body != path {
		return fault.Validation("the body contradicts the path", fault.Field(field, "is %q in the body but %q in the path", *body, path))
	}
	return nil
}

type clientBody struct {
	ClientID       *string  `json:"client_id"`
	Name           *string  `json:"name"`
	RegistrationID *string  `json:"registration_id"`
	Country        *string  `json:"country"`
	Sector         *string  `json:"sector"`
	Directors      []string `json:"directors"`
}

func (s *Server) putClient(c echo.Context) error {
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	var b clientBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := checkPathMatch("client_id", id, b.ClientID); err != nil {
		return err
	}
	var req required
	req.check(b.Name != nil, "name")
	req.check(b.Country != nil, "country")
	if err := req.err(); err != nil {
		return err
	}
	cl := ledger.Client{ClientID: id, Name: *b.Name, RegistrationID: deref(b.RegistrationID), Country: *b.Country, Sector: deref(b.Sector), Directors: b.Directors}
	res, out, err := s.Ledger.PutClient(c.Request().Context(), cl, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(writeStatus(c, res), out)
}

func (s *Server) getClient(c echo.Context) error {
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	cl, err := s.Ledger.GetClient(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cl)
}

// Page is a page of a listing; Next is the cursor of the following page, absent at the end.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func (s *Server) listClients(c echo.Context) error {
	limit, err := queryInt(c, "limit", 100)
	if err != nil {
		return err
	}
	list, next, err := s.Ledger.ListClients(c.Request().Context(), ledger.ClientFilter{
		NamePrefix: c.QueryParam("name"), Country: c.QueryParam("country"), After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	if list == nil {
		list = []ledger.Client{}
	}
	return c.JSON(http.StatusOK, Page[ledger.Client]{Items: list, Next: next})
}

func (s *Server) listClientInvoices(c echo.Context) error {
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	asOf, err := queryDate(c, "as_of")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 500)
	if err != nil {
		return err
	}
	list, next, err := s.Ledger.ListClientInvoices(c.Request().Context(), ledger.InvoiceFilter{
		ClientID: id, Status: c.QueryParam("status"), AsOf: asOf, After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	if list == nil {
		list = []ledger.InvoiceView{}
	}
	return c.JSON(http.StatusOK, Page[ledger.InvoiceView]{Items: list, Next: next})
}

type invoiceBody struct {
	InvoiceID *string       `json:"invoice_id"`
	ClientID  *string       `json:"client_id"`
	Number    *string       `json:"number"`
	Kind      *string       `json:"kind"`
	IssueDate *ledger.Date  `json:"issue_date"`
	DueDate   *ledger.Date  `json:"due_date"`
	Amount    *ledger.Money `json:"amount"`
	Currency  *string       `json:"currency"`
	Disputed  *bool         `json:"disputed"`
	QuoteID   *string       `json:"quote_id"`
	AppliesTo *string       `json:"applies_to"`
}

func (s *Server) putInvoice(c echo.Context) error {
	id, err := pathID(c, "invoice_id")
	if err != nil {
		return err
	}
	var b invoiceBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := checkPathMatch("invoice_id", id, b.InvoiceID); err != nil {
		return err
	}
	var req required
	req.check(b.ClientID != nil, "client_id")
	req.check(b.IssueDate != nil, "issue_date")
	req.check(b.Amount != nil, "amount")
	req.check(b.Currency != nil, "currency")
	if deref(b.Kind) != ledger.KindCreditNote {
		req.check(b.DueDate != nil, "due_date")
	}
	if err := req.err(); err != nil {
		return err
	}
	inv := ledger.Invoice{InvoiceID: id, ClientID: *b.ClientID, Number: deref(b.Number), Kind: deref(b.Kind), IssueDate: *b.IssueDate,
		Amount: *b.Amount, Currency: *b.Currency, Disputed: deref(b.Disputed), QuoteID: deref(b.QuoteID), AppliesTo: deref(b.AppliesTo)}
	inv.DueDate = inv.IssueDate
	if b.DueDate != nil {
		inv.DueDate = *b.DueDate
	}
	res, out, err := s.Ledger.PutInvoice(c.Request().Context(), inv, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(writeStatus(c, res), out)
}

func (s *Server) getInvoice(c echo.Context) error {
	id, err := pathID(c, "invoice_id")
	if err != nil {
		return err
	}
	asOf, err := queryDate(c, "as_of")
	if err != nil {
		return err
	}
	v, err := s.Ledger.GetInvoice(c.Request().Context(), id, asOf)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type writeOffBody struct {
	Date   *ledger.Date `json:"date"`
	Reason *string      `json:"reason"`
}

func (s *Server) writeOff(c echo.Context) error {
	id, err := pathID(c, "invoice_id")
	if err != nil {
		return err
	}
	var b writeOffBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var req required
	req.check(b.Date != nil, "date")
	req.check(b.Reason != nil, "reason")
	if err := req.err(); err != nil {
		return err
	}
	v, err := s.Ledger.WriteOff(c.Request().Context(), id, ledger.WriteOff{Date: *b.Date, Reason: *b.Reason}, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type paymentBody struct {
	PaymentID   *string             `json:"payment_id"`
	ClientID    *string             `json:"client_id"`
	Date        *ledger.Date        `json:"date"`
	Amount      *ledger.Money       `json:"amount"`
	Currency    *string             `json:"currency"`
	Reference   *string             `json:"reference"`
	Allocations []ledger.Allocation `json:"allocations"`
}

func (s *Server) putPayment(c echo.Context) error {
	id, err := pathID(c, "payment_id")
	if err != nil {
		return err
	}
	var b paymentBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := checkPathMatch("payment_id", id, b.PaymentID); err != nil {
		return err
	}
	var req required
	req.check(b.ClientID != nil, "client_id")
	req.check(b.Date != nil, "date")
	req.check(b.Amount != nil, "amount")
	req.check(b.Currency != nil, "currency")
	if err := req.err(); err != nil {
		return err
	}
	p := ledger.Payment{PaymentID: id, ClientID: *b.ClientID, Date: *b.Date, Amount: *b.Amount, Currency: *b.Currency,
		Reference: deref(b.Reference), Allocations: b.Allocations}
	res, out, err := s.Ledger.PutPayment(c.Request().Context(), p, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(writeStatus(c, res), out)
}

func (s *Server) getPayment(c echo.Context) error {
	id, err := pathID(c, "payment_id")
	if err != nil {
		return err
	}
	v, err := s.Ledger.GetPayment(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) importFile(c echo.Context) error {
	switch c.Param("kind") {
	case ledger.ImportClients, ledger.ImportInvoices, ledger.ImportPayments:
	default:
		return fault.Errorf(fault.NotFound, "no import of %q: the kinds are clients, invoices and payments", c.Param("kind"))
	}
	q := c.QueryParams()
	for name := range q {
		switch name {
		case "map", "date_format", "delimiter", "decimal", "create_clients", "atomic":
		default:
			return &fault.Error{Code: fault.BadRequest, Message: "unknown query parameter", Fields: []fault.FieldError{fault.Field(name, "is not a parameter of an import")}}
		}
	}
	create, err := queryBool(c, "create_clients")
	if err != nil {
		return err
	}
	atomic, err := queryBool(c, "atomic")
	if err != nil {
		return err
	}
	var format string
	ct, _, _ := strings.Cut(c.Request().Header.Get(echo.HeaderContentType), ";")
	switch strings.TrimSpace(ct) {
	case "text/csv", "application/csv":
		format = "csv"
	case "application/x-ndjson", "application/ndjson", "application/jsonl":
		format = "ndjson"
	default:
		return fault.Validation("unsupported file type", fault.Field("Content-Type", "must be text/csv or application/x-ndjson, got %q", ct))
	}
	opts, err := ledger.ParseImportOptions(ledger.ImportParams{Kind: c.Param("kind"), Format: format, Map: c.QueryParam("map"),
		DateFormat: c.QueryParam("date_format"), Delimiter: c.QueryParam("delimiter"), Decimal: c.QueryParam("decimal"),
		CreateClients: create, Atomic: atomic})
	if err != nil {
		return err
	}
	rep, err := s.Ledger.Import(c.Request().Context(), c.Request().Body, opts, actor(c), nil)
	if err != nil {
		if te := bodyReadError(err); fault.Code(te) == fault.TooLarge {
			return te
		}
		return err
	}
	if opts.Atomic && rep.Rejected > 0 {
		return withReport{error: &fault.Error{Code: fault.Invalid, Message: "the import was atomic and some rows failed: nothing was imported", Fields: rep.Errors}, report: rep}
	}
	return c.JSON(http.StatusOK, rep)
}
