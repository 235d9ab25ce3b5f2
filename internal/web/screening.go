package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/sanctions"
)

// reviewLimit bounds the review queue shown at once: the oldest screenings come first.
const reviewLimit = 200

// searchForm is the ad-hoc name search as the form holds it.
type searchForm struct {
	Name, Type, Country, BirthYear string
}

type screeningView struct {
	Queue   []ReviewItem
	Search  searchForm
	Results []sanctions.Match
	// Searched is true when a search ran (an empty result is then worth saying).
	Searched bool
}

// screening is the credit manager's review queue and the ad-hoc name search.
func (c *Console) screening(q *req) error {
	if c.Board == nil || c.Sanctions == nil {
		return errNotConfigured("sanctions screening")
	}
	sv := screeningView{}
	var err error
	if sv.Queue, err = c.Board.ReviewQueue(q.r.Context(), reviewLimit); err != nil {
		return err
	}
	qs := q.r.URL.Query()
	sv.Search = searchForm{Name: strings.TrimSpace(qs.Get("name")), Type: qs.Get("type"),
		Country: strings.ToUpper(strings.TrimSpace(qs.Get("country"))), BirthYear: strings.TrimSpace(qs.Get("birth_year"))}
	if sv.Search.Name != "" {
		query := sanctions.Query{Name: sv.Search.Name, Type: sanctions.EntryType(sv.Search.Type), Country: sv.Search.Country, Limit: 20}
		if sv.Search.BirthYear != "" {
			if query.BirthYear, err = strconv.Atoi(sv.Search.BirthYear); err != nil {
				return &fault.Error{Code: fault.BadRequest, Message: "the search is not valid",
					Fields: []fault.FieldError{fault.Field("birth_year", "must be a year such as 1975")}}
			}
		}
		if sv.Results, err = c.Sanctions.Search(query); err != nil {
			return err
		}
		sv.Searched = true
	}
	q.v.Title = q.v.T("nav.screening")
	q.v.Data = sv
	c.render(q.w, q.r, q.v, http.StatusOK, "screening")
	return nil
}

// hitView is a hit with the listed entry's details, when the loaded lists still hold it.
type hitView struct {
	sanctions.Hit
	Entry *sanctions.Entry
}

type screeningClientView struct {
	Client    ledger.Client
	Screening sanctions.Screening
	Hits      []hitView
	Cleared   []hitView
	// Problem is a refused disposition, shown above the form.
	Problem *errorView
	// Note is the note of a refused disposition, kept for another try.
	Note, HitID string
}

func (c *Console) screeningClient(q *req) error {
	scv, err := c.loadScreening(q)
	if err != nil {
		return err
	}
	if q.r.URL.Query().Get("done") != "" {
		q.v.Flash = q.v.T("screening.recorded")
	}
	c.showScreening(q, scv, http.StatusOK)
	return nil
}

func (c *Console) loadScreening(q *req) (*screeningClientView, error) {
	if c.Ledger == nil || c.Sanctions == nil {
		return nil, errNotConfigured("sanctions screening")
	}
	id := q.r.PathValue("id")
	if fe := ledger.CheckID("client_id", id); fe != nil {
		return nil, &fault.Error{Code: fault.BadRequest, Message: fe.Message, Fields: []fault.FieldError{*fe}}
	}
	cl, err := c.Ledger.GetClient(q.r.Context(), id)
	if err != nil {
		return nil, err
	}
	sc, err := c.Sanctions.Screening(q.r.Context(), id)
	if err != nil {
		return nil, err
	}
	scv := &screeningClientView{Client: cl, Screening: sc}
	scv.Hits = c.withEntries(sc.Hits)
	scv.Cleared = c.withEntries(sc.Cleared)
	return scv, nil
}

func (c *Console) withEntries(hits []sanctions.Hit) []hitView {
	out := make([]hitView, len(hits))
	for i, h := range hits {
		out[i] = hitView{Hit: h}
		if e, ok := c.Sanctions.Entry(h.Entry); ok {
			out[i].Entry = &e
		}
	}
	return out
}

func (c *Console) showScreening(q *req, scv *screeningClientView, status int) {
	q.v.Title = q.v.Tf("screening.title", scv.Client.Name)
	q.v.Data = scv
	c.render(q.w, q.r, q.v, status, "screening_client")
}

// dispose records a verdict on a hit; a refusal (no note, an unknown verdict) shows the page
// again with the note kept.
func (c *Console) dispose(q *req) error {
	scv, err := c.loadScreening(q)
	if err != nil {
		return err
	}
	hitID := q.r.PathValue("hit")
	verdict := sanctions.Verdict(q.r.PostForm.Get("verdict"))
	note := strings.TrimSpace(q.r.PostForm.Get("note"))
	_, _, err = c.Sanctions.Dispose(q.r.Context(), scv.Client.ClientID, hitID, verdict, note, q.who.Name)
	if err != nil {
		var fe *fault.Error
		code := fault.Code(err)
		if !errors.As(err, &fe) || code != fault.Invalid && code != fault.BadRequest {
			return err
		}
		scv.Problem = &errorView{Status: fault.HTTPStatus(code), Message: fe.Message, Fields: fe.Fields}
		scv.Note, scv.HitID = note, hitID
		c.showScreening(q, scv, fault.HTTPStatus(code))
		return nil
	}
	c.Log.Info("console: sanctions hit disposed", "client_id", scv.Client.ClientID, "hit", hitID, "verdict", string(verdict), "key", q.who.Name)
	http.Redirect(q.w, q.r, fmt.Sprintf("%s/screening/%s?done=1", consolePath, url.PathEscape(scv.Client.ClientID)), http.StatusSeeOther)
	return nil
}
