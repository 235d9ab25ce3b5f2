package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/policy"
)

// policyRoutes are the policy lifecycle: credit managers (and admins) write, finance reads.
func (s *Server) policyRoutes(api *echo.Group) {
	if s.Policies == nil {
		return
	}
	read, write := s.require(auth.PolicyRead), s.require(auth.PolicyWrite)
	api.GET("/policies", s.listPolicies, read)
	api.POST("/policies", s.createPolicy, write)
	api.GET("/policies/active", s.activePolicy, read)
	api.GET("/policies/:version", s.getPolicy, read)
	api.GET("/policies/:version/diff", s.diffPolicy, read)
	api.POST("/policies/:version/test", s.testPolicy, write)
	// A replay of a month of decisions outlasts the API's request timeout: it has its own.
	replayTimeout := s.Policies.ReplayTimeout
	if replayTimeout <= 0 {
		replayTimeout = s.Config.RequestTimeout
	}
	s.echo.POST("/v1/policies/:version/replay", s.replayPolicy, s.limits(s.Config.BodyLimit, replayTimeout), write)
	api.POST("/policies/:version/activate", s.activatePolicy, write)
}

// pathVersion reads the version number of the path.
func pathVersion(c echo.Context) (int, error) {
	v, err := strconv.Atoi(c.Param("version"))
	if err != nil || v < 1 {
		return 0, &fault.Error{Code: fault.BadRequest, Message: "bad path parameter",
			Fields: []fault.FieldError{fault.Field("version", "must be a version number (1, 2, ...)")}}
	}
	return v, nil
}

func (s *Server) listPolicies(c echo.Context) error {
	limit, err := queryInt(c, "limit", 100)
	if err != nil {
		return err
	}
	before, err := queryInt(c, "cursor", 0)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return &fault.Error{Code: fault.BadRequest, Message: "bad query parameter", Fields: []fault.FieldError{fault.Field("limit", "must be between 1 and 1000")}}
	}
	list, err := s.Policies.List(c.Request().Context(), policy.ListFilter{Status: policy.Status(c.QueryParam("status")), Before: before, Limit: limit + 1})
	if err != nil {
		return err
	}
	page := Page[policy.Version]{Items: list}
	if len(list) > limit {
		page.Items = list[:limit]
		page.Next = strconv.Itoa(list[limit-1].Version)
	}
	return c.JSON(http.StatusOK, page)
}

type draftBody struct {
	Parent  *int               `json:"parent"`
	Modules map[string]*string `json:"modules"`
	Data    json.RawMessage    `json:"data"`
	Comment *string            `json:"comment"`
}

func (s *Server) createPolicy(c echo.Context) error {
	var b draftBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	d := policy.Draft{Parent: b.Parent, Modules: b.Modules, Data: b.Data, Comment: deref(b.Comment)}
	v, err := s.Policies.Create(c.Request().Context(), d, actor(c))
	if err != nil {
		return s.compileProblem(c, err)
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/policies/%d", v.Version))
	return c.JSON(http.StatusCreated, v)
}

// compileProblem answers a version that does not compile with the usual 422 problem plus its
// diagnostics, which carry the column and OPA's code besides the file, line and message.
func (s *Server) compileProblem(c echo.Context, err error) error {
	var ce *decision.CompileError
	var fe *fault.Error
	if !errors.As(err, &ce) || !errors.As(err, &fe) {
		return err
	}
	doc := struct {
		Problem
		Diagnostics []decision.Diagnostic `json:"diagnostics"`
	}{
		Problem: Problem{Type: "/problems/" + fault.Invalid, Title: titleOf[fault.Invalid], Status: statusOf[fault.Invalid],
			Detail: fe.Message, Instance: c.Request().URL.Path, RequestID: c.Response().Header().Get(echo.HeaderXRequestID), Errors: fe.Fields},
		Diagnostics: ce.Diagnostics,
	}
	c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
	return c.JSONBlob(doc.Status, mustJSON(doc))
}

func (s *Server) getPolicy(c echo.Context) error {
	n, err := pathVersion(c)
	if err != nil {
		return err
	}
	v, err := s.Policies.Get(c.Request().Context(), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// activeView is the active version with what this replica serves, which lags it while a new
// version is being compiled or when it cannot be served here.
type activeView struct {
	policy.Version
	ServingVersion int    `json:"serving_version"`
	ServingHash    string `json:"serving_hash,omitempty"`
	ServingError   string `json:"serving_error,omitempty"`
}

func (s *Server) activePolicy(c echo.Context) error {
	v, err := s.Policies.Active(c.Request().Context())
	if err != nil {
		return err
	}
	view := activeView{Version: v}
	if p := s.Policies.Provider; p != nil {
		st := p.Serving()
		view.ServingVersion, view.ServingHash, view.ServingError = st.Serving, st.ServingHash, st.Failure
	}
	return c.JSON(http.StatusOK, view)
}

func (s *Server) diffPolicy(c echo.Context) error {
	n, err := pathVersion(c)
	if err != nil {
		return err
	}
	against, err := queryInt(c, "against", 0)
	if err != nil {
		return err
	}
	if against < 0 {
		return &fault.Error{Code: fault.BadRequest, Message: "bad query parameter", Fields: []fault.FieldError{fault.Field("against", "must be a version number")}}
	}
	d, err := s.Policies.Diff(c.Request().Context(), n, against)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) testPolicy(c echo.Context) error {
	n, err := pathVersion(c)
	if err != nil {
		return err
	}
	rep, err := s.Policies.Test(c.Request().Context(), n, actor(c))
	if err != nil {
		return s.compileProblem(c, err)
	}
	return c.JSON(http.StatusOK, rep)
}

type replayBody struct {
	From       *string `json:"from"`
	To         *string `json:"to"`
	Limit      *int    `json:"limit"`
	SampleSize *int    `json:"sample_size"`
}

func (s *Server) replayPolicy(c echo.Context) error {
	n, err := pathVersion(c)
	if err != nil {
		return err
	}
	var b replayBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	req := policy.ReplayRequest{Limit: deref(b.Limit), SampleSize: policy.DefaultSampleSize}
	if b.SampleSize != nil {
		req.SampleSize = *b.SampleSize
	}
	var fields []fault.FieldError
	for _, f := range []struct {
		name string
		v    *string
		end  bool
	}{{"from", b.From, false}, {"to", b.To, true}} {
		if f.v == nil {
			fields = append(fields, fault.Field(f.name, "is required"))
			continue
		}
		t, err := parseInstant(*f.v, f.end)
		if err != nil {
			fields = append(fields, fault.Field(f.name, "must be a date (YYYY-MM-DD) or an RFC 3339 time"))
			continue
		}
		if f.end {
			req.To = t
		} else {
			req.From = t
		}
	}
	if len(fields) > 0 {
		return fault.Validation("the replay request is not valid", fields...)
	}
	rep, err := s.Policies.Replay(c.Request().Context(), n, req, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

type activateBody struct {
	Comment *string `json:"comment"`
}

func (s *Server) activatePolicy(c echo.Context) error {
	n, err := pathVersion(c)
	if err != nil {
		return err
	}
	var b activateBody
	// The comment is optional, and so is a body holding nothing else.
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &b); err != nil {
			return err
		}
	}
	res, err := s.Policies.Activate(c.Request().Context(), n, deref(b.Comment), actor(c))
	if err != nil {
		return s.compileProblem(c, err)
	}
	return c.JSON(http.StatusOK, res)
}
