package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
)

// testPolicy runs a version's tests and shows each result on its page.
func (c *Console) testPolicy(q *req) error {
	if c.Policies == nil {
		return errNotConfigured("the policy lifecycle")
	}
	pv, err := c.loadPolicy(q)
	if err != nil {
		return err
	}
	rep, err := c.Policies.Test(q.r.Context(), pv.Version.Version, q.who.Name)
	if err != nil {
		return c.policyRefusal(q, pv, err)
	}
	pv.Tests = &rep
	c.showPolicy(q, pv, http.StatusOK)
	return nil
}

// transition is one outcome change of a replay ("approve->review") with its count.
type transition struct {
	From, To string
	Count    int
}

// replayPolicy replays the logged decisions of a period through a version and shows the
// transition counts and the changed decisions side by side.
func (c *Console) replayPolicy(q *req) error {
	if c.Policies == nil {
		return errNotConfigured("the policy lifecycle")
	}
	pv, err := c.loadPolicy(q)
	if err != nil {
		return err
	}
	f := q.r.PostForm
	pv.ReplayForm = replayForm{From: strings.TrimSpace(f.Get("from")), To: strings.TrimSpace(f.Get("to")), Limit: strings.TrimSpace(f.Get("limit"))}
	req := policy.ReplayRequest{SampleSize: policy.DefaultSampleSize}
	var bad []fault.FieldError
	from, err := ledger.ParseDate(pv.ReplayForm.From)
	if err != nil {
		bad = append(bad, fault.Field("from", "must be a date as YYYY-MM-DD"))
	}
	to, err := ledger.ParseDate(pv.ReplayForm.To)
	if err != nil {
		bad = append(bad, fault.Field("to", "must be a date as YYYY-MM-DD"))
	}
	if pv.ReplayForm.Limit != "" {
		if req.Limit, err = strconv.Atoi(pv.ReplayForm.Limit); err != nil || req.Limit < 0 {
			bad = append(bad, fault.Field("limit", "must be a whole number (0 or empty: every decision)"))
		}
	}
	if len(bad) > 0 {
		return c.policyRefusal(q, pv, fault.Validation("the replay request is not valid", bad...))
	}
	req.From, req.To = from.Time(), to.AddDays(1).Time() // the last day included
	rep, err := c.Policies.Replay(q.r.Context(), pv.Version.Version, req, q.who.Name)
	if err != nil {
		return c.policyRefusal(q, pv, err)
	}
	pv.Replay = &rep
	for k, n := range rep.Transitions {
		a, b, _ := strings.Cut(k, "->")
		pv.Transitions = append(pv.Transitions, transition{From: a, To: b, Count: n})
	}
	slices.SortFunc(pv.Transitions, func(a, b transition) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.From+a.To, b.From+b.To)
	})
	c.showPolicy(q, pv, http.StatusOK)
	return nil
}

// activatePolicy activates a version (a rollback when it was active before). A refusal (four-eyes,
// failing tests, already active) is shown on the version's page.
func (c *Console) activatePolicy(q *req) error {
	if c.Policies == nil {
		return errNotConfigured("the policy lifecycle")
	}
	pv, err := c.loadPolicy(q)
	if err != nil {
		return err
	}
	res, err := c.Policies.Activate(q.r.Context(), pv.Version.Version, strings.TrimSpace(q.r.PostForm.Get("comment")), q.who.Name)
	if err != nil {
		return c.policyRefusal(q, pv, err)
	}
	c.Log.Info("console: policy activated", "version", pv.Version.Version, "rollback", res.Rollback, "key", q.who.Name)
	done := "activated"
	if res.Rollback {
		done = "rolled_back"
	}
	http.Redirect(q.w, q.r, fmt.Sprintf("%s/policies/%d?done=%s", consolePath, pv.Version.Version, done), http.StatusSeeOther)
	return nil
}

// policyRefusal shows a refused action on the version's page with the status of its code; errors
// a person cannot act on fail the page.
func (c *Console) policyRefusal(q *req, pv *policyView, err error) error {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return err
	}
	switch fe.Code {
	case fault.Forbidden, fault.Invalid, fault.BadRequest, fault.Conflict:
	default:
		return err
	}
	pv.Refusal = &errorView{Status: fault.HTTPStatus(fe.Code), Message: fe.Message, Fields: fe.Fields}
	c.showPolicy(q, pv, fault.HTTPStatus(fe.Code))
	return nil
}
