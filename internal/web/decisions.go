package web

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// decisionsPage is the size of a page of the decision log.
const decisionsPage = 50

// decisionQuery is the log's filter as the form holds it.
type decisionQuery struct {
	ClientID, Outcome, From, To string
}

// Encode is the filter as a query string (for the next page and the export link); its values
// are escaped by url.Values, so the template may put it in an address as it is.
func (d decisionQuery) Encode() template.URL {
	q := url.Values{}
	for k, v := range map[string]string{"client_id": d.ClientID, "outcome": d.Outcome, "from": d.From, "to": d.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return template.URL(q.Encode())
}

type decisionsView struct {
	Query     decisionQuery
	Decisions []decision.LogEntry
	Next      string
}

// decisionFilter reads the filter form; from and to are dates, to included.
func decisionFilter(r *http.Request) (decisionQuery, decision.Filter, error) {
	qs := r.URL.Query()
	dq := decisionQuery{ClientID: strings.TrimSpace(qs.Get("client_id")), Outcome: qs.Get("outcome"),
		From: strings.TrimSpace(qs.Get("from")), To: strings.TrimSpace(qs.Get("to"))}
	f := decision.Filter{ClientID: dq.ClientID, Outcome: decision.Outcome(dq.Outcome), After: qs.Get("after"), Limit: decisionsPage}
	var bad []fault.FieldError
	switch f.Outcome {
	case "", decision.OutcomeApprove, decision.OutcomeReview, decision.OutcomeDeny:
	default:
		bad = append(bad, fault.Field("outcome", "must be approve, review or deny"))
	}
	if dq.ClientID != "" {
		if fe := ledger.CheckID("client_id", dq.ClientID); fe != nil {
			bad = append(bad, *fe)
		}
	}
	for _, p := range []struct {
		name, v string
		dst     **time.Time
		end     bool
	}{{"from", dq.From, &f.From, false}, {"to", dq.To, &f.To, true}} {
		if p.v == "" {
			continue
		}
		d, err := ledger.ParseDate(p.v)
		if err != nil {
			bad = append(bad, fault.Field(p.name, "must be a date as YYYY-MM-DD, got %q", p.v))
			continue
		}
		if p.end {
			d++ // the whole day: decisions before the next midnight
		}
		t := d.Time()
		*p.dst = &t
	}
	if len(bad) > 0 {
		return dq, f, &fault.Error{Code: fault.BadRequest, Message: "the filter is not valid", Fields: bad}
	}
	return dq, f, nil
}

func (c *Console) decisions(q *req) error {
	if c.Decisions == nil {
		return errNotConfigured("the decision log")
	}
	dq, f, err := decisionFilter(q.r)
	if err != nil {
		return err
	}
	list, next, err := c.Decisions.List(q.r.Context(), f)
	if err != nil {
		return err
	}
	q.v.Title = q.v.T("nav.decisions")
	q.v.Data = decisionsView{Query: dq, Decisions: list, Next: next}
	c.render(q.w, q.r, q.v, http.StatusOK, "decisions")
	return nil
}

// decisionsCSV exports the filtered log, machine-readable (dot decimals, RFC 3339 times) whatever
// the page's language, so a spreadsheet or a script reads it the same way.
func (c *Console) decisionsCSV(q *req) error {
	if c.Decisions == nil {
		return errNotConfigured("the decision log")
	}
	_, f, err := decisionFilter(q.r)
	if err != nil {
		return err
	}
	f.Limit, f.After = 1000, ""
	// The first page is read before the header goes out, so a failure is still an error page.
	list, next, err := c.Decisions.List(q.r.Context(), f)
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="decisions.csv"`)
	h.Set("Cache-Control", "no-store")
	if err := decision.WriteExport(q.r.Context(), q.w, c.Decisions.List, f, &decision.ExportPage{Entries: list, Next: next}); err != nil {
		c.Log.Warn("console: decision export interrupted", "err", err)
	}
	return nil
}

type decisionView struct {
	decision.LogEntry
	InputLines []codeLine
}

func (c *Console) decisionPage(q *req) error {
	if c.Decisions == nil {
		return errNotConfigured("the decision log")
	}
	e, err := c.Decisions.Get(q.r.Context(), q.r.PathValue("id"))
	if err != nil {
		return err
	}
	dv := decisionView{LogEntry: e}
	if len(e.Input) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, e.Input, "", "  ") == nil {
			dv.InputLines = codeLines(buf.String(), nil)
		} else {
			dv.InputLines = codeLines(string(e.Input), nil)
		}
	}
	q.v.Title = q.v.Tf("decision.title", e.DecisionID)
	q.v.Data = dv
	c.render(q.w, q.r, q.v, http.StatusOK, "decision")
	return nil
}
