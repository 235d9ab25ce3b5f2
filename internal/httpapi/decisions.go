package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

func (s *Server) decisionRoutes(api *echo.Group) {
	if s.Decisions == nil {
		return
	}
	api.POST("/decisions", s.decide, s.require(auth.DecisionCreate))
	api.GET("/decisions", s.listDecisions, s.requireAny(auth.DecisionRead, auth.DecisionCreate))
	api.GET("/decisions/:decision_id", s.getDecision, s.requireAny(auth.DecisionRead, auth.DecisionCreate))
	api.POST("/decisions/:decision_id/release", s.releaseDecision, s.requireAny(auth.PolicyWrite, auth.DecisionCreate))
}

type decisionBody struct {
	QuoteID            *string       `json:"quote_id"`
	ClientID           *string       `json:"client_id"`
	Amount             *ledger.Money `json:"amount"`
	Currency           *string       `json:"currency"`
	RequestedTermsDays *int          `json:"requested_terms_days"`
	EndOfMonth         *bool         `json:"end_of_month"`
	OpenOrdersAmount   *ledger.Money `json:"open_orders_amount"`
	Client             *struct {
		Name           *string `json:"name"`
		RegistrationID *string `json:"registration_id"`
		Country        *string `json:"country"`
	} `json:"client"`
}

// ReplayedHeader tells the CRM a quote sent again got its logged decision back.
const ReplayedHeader = "Credo-Replayed"

func (s *Server) decide(c echo.Context) error {
	var b decisionBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var req required
	req.check(b.QuoteID != nil, "quote_id")
	req.check(b.ClientID != nil, "client_id")
	req.check(b.Amount != nil, "amount")
	req.check(b.Currency != nil, "currency")
	req.check(b.RequestedTermsDays != nil, "requested_terms_days")
	if b.Client != nil {
		req.check(b.Client.Name != nil, "client.name")
		req.check(b.Client.Country != nil, "client.country")
	}
	if err := req.err(); err != nil {
		return err
	}
	r := decision.Request{QuoteID: *b.QuoteID, ClientID: *b.ClientID, Amount: *b.Amount, Currency: *b.Currency,
		RequestedTermsDays: *b.RequestedTermsDays, EndOfMonth: deref(b.EndOfMonth), OpenOrdersAmount: deref(b.OpenOrdersAmount)}
	if b.Client != nil {
		r.Client = &decision.Prospect{Name: *b.Client.Name, RegistrationID: deref(b.Client.RegistrationID), Country: *b.Client.Country}
	}
	d, replayed, err := s.Decisions.Decide(c.Request().Context(), r, actor(c))
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
		c.Response().Header().Set(ReplayedHeader, "true")
	}
	return c.JSON(status, d)
}

// ownOnly is set when the caller may only see the decisions it asked for (a sales key).
func ownOnly(c echo.Context) string {
	p, _ := principalOf(c)
	if p.Role.Can(auth.DecisionRead) {
		return ""
	}
	return p.Name
}

func (s *Server) getDecision(c echo.Context) error {
	e, err := s.Decisions.Store.Get(c.Request().Context(), c.Param("decision_id"))
	if err != nil {
		return err
	}
	if own := ownOnly(c); own != "" && e.RequestedBy != own {
		return fault.Errorf(fault.NotFound, "decision %q not found", c.Param("decision_id"))
	}
	return c.JSON(http.StatusOK, decisionView(e))
}

// loggedDecision is a decision as the log shows it: the answer, and what it was decided on.
type loggedDecision struct {
	decision.Decision
	Input   any    `json:"input"`
	Failure string `json:"failure,omitempty"`
}

func decisionView(e decision.LogEntry) loggedDecision {
	return loggedDecision{Decision: e.Decision, Input: rawJSON(e.Input), Failure: e.Failure}
}

type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

func (s *Server) decisionFilter(c echo.Context) (decision.Filter, error) {
	f := decision.Filter{ClientID: c.QueryParam("client_id"), Outcome: decision.Outcome(c.QueryParam("outcome")), After: c.QueryParam("cursor"), RequestedBy: ownOnly(c)}
	var fe []fault.FieldError
	switch f.Outcome {
	case "", decision.OutcomeApprove, decision.OutcomeReview, decision.OutcomeDeny:
	default:
		fe = append(fe, fault.Field("outcome", "must be approve, review or deny"))
	}
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := c.QueryParam(p.name)
		if v == "" {
			continue
		}
		t, err := parseInstant(v, p.name == "to")
		if err != nil {
			fe = append(fe, fault.Field(p.name, "must be a date (YYYY-MM-DD) or an RFC 3339 time"))
			continue
		}
		*p.dst = &t
	}
	limit, err := queryInt(c, "limit", 100)
	if err != nil {
		return f, err
	}
	if limit < 1 || limit > 1000 {
		fe = append(fe, fault.Field("limit", "must be between 1 and 1000"))
	}
	f.Limit = limit
	if len(fe) > 0 {
		return f, &fault.Error{Code: fault.BadRequest, Message: "bad query parameter", Fields: fe}
	}
	return f, nil
}

// parseInstant reads a date (the start of that day; with endOfDay, the start of the next) or an
// RFC 3339 time.
func parseInstant(v string, endOfDay bool) (time.Time, error) {
	if d, err := ledger.ParseDate(v); err == nil {
		if endOfDay {
			d++
		}
		return d.Time(), nil
	}
	return time.Parse(time.RFC3339, v)
}

func (s *Server) listDecisions(c echo.Context) error {
	f, err := s.decisionFilter(c)
	if err != nil {
		return err
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv") {
		return s.exportDecisions(c, f)
	}
	list, next, err := s.Decisions.Store.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	items := make([]loggedDecision, len(list))
	for i, e := range list {
		items[i] = decisionView(e)
		items[i].Input = nil
	}
	return c.JSON(http.StatusOK, Page[loggedDecision]{Items: items, Next: next})
}

func (s *Server) exportDecisions(c echo.Context, f decision.Filter) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="decisions.csv"`)
	w.WriteHeader(http.StatusOK)
	if err := decision.WriteExport(c.Request().Context(), w, s.Decisions.Store.List, f, nil); err != nil {
		s.log.WarnContext(c.Request().Context(), "decision export interrupted", "err", err)
	}
	return nil
}

func (s *Server) releaseDecision(c echo.Context) error {
	id := c.Param("decision_id")
	if own := ownOnly(c); own != "" {
		e, err := s.Decisions.Store.Get(c.Request().Context(), id)
		if err != nil {
			return err
		}
		p, _ := principalOf(c)
		if e.RequestedBy != own && !p.Role.Can(auth.PolicyWrite) {
			return fault.Errorf(fault.NotFound, "decision %q not found", id)
		}
	}
	e, err := s.Decisions.Store.Release(c.Request().Context(), id, actor(c))
	if err != nil {
		return err
	}
	v := decisionView(e)
	v.Input = nil
	return c.JSON(http.StatusOK, v)
}
