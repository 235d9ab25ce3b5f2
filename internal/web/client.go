package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
	"github.com/credorisk/credo/internal/sanctions"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/internal/solvency"
)

// clientsPage is the size of a page of the client list.
const clientsPage = 50

type clientsView struct {
	Name    string
	Clients []ledger.Client
	Next    string
}

// clients finds clients by the start of their name, or goes straight to one by its id.
func (c *Console) clients(q *req) error {
	if c.Ledger == nil {
		return errNotConfigured("the ledger")
	}
	qs := q.r.URL.Query()
	if id := strings.TrimSpace(qs.Get("id")); id != "" {
		if fe := ledger.CheckID("id", id); fe != nil {
			return &fault.Error{Code: fault.BadRequest, Message: fe.Message, Fields: []fault.FieldError{*fe}}
		}
		http.Redirect(q.w, q.r, consolePath+"/clients/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	}
	cv := clientsView{Name: strings.TrimSpace(qs.Get("name"))}
	list, next, err := c.Ledger.ListClients(q.r.Context(), ledger.ClientFilter{NamePrefix: cv.Name, After: qs.Get("after"), Limit: clientsPage})
	if err != nil {
		return err
	}
	cv.Clients, cv.Next = list, next
	q.v.Title = q.v.T("nav.clients")
	q.v.Data = cv
	c.render(q.w, q.r, q.v, http.StatusOK, "clients")
	return nil
}

// clientView is everything the client page shows.
type clientView struct {
	Client       ledger.Client
	AsOf, Today  ledger.Date
	Score        scoring.ScoreDoc
	Explanation  scoring.ExplanationDoc
	PointsTotal  int
	PointsMax    int
	History      []scoring.HistoryEntry
	HistoryChart chartSVG
	M            receivables.Metrics
	Invoices     []invoiceRow
	InvoiceAges  []amountRow
	MoreInvoices bool
	Solvency     *solvency.Report
	SolvencyNote string
	Screening    *sanctions.Screening
	ScreenNote   string
	Decisions    []decision.LogEntry
}

// invoiceRow is an open invoice with its age at the page's date.
type invoiceRow struct {
	ledger.InvoiceView
	DaysPastDue int
	Bucket      string
}

// invoiceLimit bounds the open invoices listed on a client page; the age table counts them all
// from the metrics.
const invoiceLimit = 200

func (c *Console) client(q *req) error {
	if c.Ledger == nil || c.Metrics == nil || c.Scores == nil || c.Decisions == nil {
		return errNotConfigured("the client page")
	}
	ctx, v := q.r.Context(), q.v
	id := q.r.PathValue("id")
	if fe := ledger.CheckID("client_id", id); fe != nil {
		return &fault.Error{Code: fault.BadRequest, Message: fe.Message, Fields: []fault.FieldError{*fe}}
	}
	cl, err := c.Ledger.GetClient(ctx, id)
	if err != nil {
		return err
	}
	today := ledger.DateFromTime(c.Now())
	asOf, err := receivables.ParseAsOf(q.r.URL.Query().Get("as_of"), today)
	if err != nil {
		return err
	}
	cv := clientView{Client: cl, AsOf: asOf, Today: today}
	if cv.Score, cv.Explanation, err = c.Scores.Current(ctx, id, v.Lang); err != nil {
		return err
	}
	for _, l := range cv.Explanation.Characteristics {
		cv.PointsTotal += l.Points
		cv.PointsMax += l.MaxPoints
	}
	if cv.History, err = c.Scores.History(ctx, id, 100); err != nil {
		return err
	}
	cv.HistoryChart = historyChart(v, cv.History)
	facts, err := c.Metrics.ClientFacts(ctx, id, asOf, false)
	if err != nil {
		return err
	}
	cv.M = receivables.Compute(facts)
	cv.InvoiceAges = agingRows(v, cv.M.Aging, cv.M.OpenAR)
	if err := c.openInvoices(q, &cv); err != nil {
		return err
	}
	if c.Solvency != nil {
		rep, err := c.Solvency.Report(ctx, id, false)
		if cv.SolvencyNote, err = sectionNote(v, err); err != nil {
			return err
		}
		if cv.SolvencyNote == "" {
			slices.SortFunc(rep.Providers, func(a, b solvency.ProviderReport) int { return strings.Compare(a.Provider, b.Provider) })
			cv.Solvency = &rep
		}
	} else {
		cv.SolvencyNote = v.T("client.not_configured")
	}
	if c.Sanctions != nil {
		sc, err := c.Sanctions.Screening(ctx, id)
		if cv.ScreenNote, err = sectionNote(v, err); err != nil {
			return err
		}
		if cv.ScreenNote == "" {
			cv.Screening = &sc
		}
	} else {
		cv.ScreenNote = v.T("client.not_configured")
	}
	if cv.Decisions, _, err = c.Decisions.List(ctx, decision.Filter{ClientID: id, Limit: 20}); err != nil {
		return err
	}
	v.Title = cl.Name
	v.Data = cv
	c.render(q.w, q.r, v, http.StatusOK, "client")
	return nil
}

// sectionNote turns a section's unavailable service into a note on the page (the rest of the
// page is still worth showing); any other error fails the page.
func sectionNote(v *view, err error) (string, error) {
	var fe *fault.Error
	switch {
	case err == nil:
		return "", nil
	case fault.Code(err) == fault.Unavailable && errors.As(err, &fe):
		return v.T("error.unavailable") + " " + fe.Message, nil // the message, not the wrapped cause
	}
	return "", err
}

func (c *Console) openInvoices(q *req, cv *clientView) error {
	list, next, err := c.Ledger.ListClientInvoices(q.r.Context(), ledger.InvoiceFilter{ClientID: cv.Client.ClientID,
		Status: "open", AsOf: cv.AsOf, Limit: invoiceLimit})
	if err != nil {
		return err
	}
	cv.MoreInvoices = next != ""
	for _, inv := range list {
		age := int(cv.AsOf - inv.DueDate)
		cv.Invoices = append(cv.Invoices, invoiceRow{InvoiceView: inv, DaysPastDue: max(age, 0), Bucket: q.v.T(agingKey(age))})
	}
	// Oldest debt first: what a collector calls about.
	slices.SortStableFunc(cv.Invoices, func(a, b invoiceRow) int { return b.DaysPastDue - a.DaysPastDue })
	return nil
}

// agingKey is the aged-balance bucket of an invoice days past due (receivables.Compute's).
func agingKey(age int) string {
	switch {
	case age <= 0:
		return "aging.current"
	case age <= 30:
		return "aging.d1_30"
	case age <= 60:
		return "aging.d31_60"
	case age <= 90:
		return "aging.d61_90"
	}
	return "aging.d90_plus"
}

// historyChart draws the score history, oldest first.
func historyChart(v *view, h []scoring.HistoryEntry) chartSVG {
	pts := make([]point, 0, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		e := h[i]
		day := ledger.DateFromTime(e.ComputedAt)
		pts = append(pts, point{X: float64(e.ComputedAt.UnixNano()), Y: float64(e.Score), Axis: v.Date(day),
			Tip: v.Tf("client.history_point", v.Time(e.ComputedAt), e.Score, e.RiskClass)})
	}
	return lineChart("history-chart", v.T("client.history"), pts)
}

// FeatureLabel is a scorecard characteristic's name for people, or its code when the console
// has no words for it (a newer model).
func (v *view) FeatureLabel(feature string) string {
	if _, ok := messages["feature."+feature]; ok {
		return v.T("feature." + feature)
	}
	return feature
}

// FeatureValue formats an input of the scorecard: a number in the locale's way, yes or no, or a
// dash for a missing value.
func (v *view) FeatureValue(x scoring.Value) string {
	if f, ok := x.Float(); ok {
		return v.loc.shortest(f)
	}
	if b, ok := x.BoolValue(); ok {
		if b {
			return v.T("yes")
		}
		return v.T("no")
	}
	return dash
}
