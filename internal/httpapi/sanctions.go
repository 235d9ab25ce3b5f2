package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/sanctions"
)

// sanctionsRoutes registers name screening, the lists' state, client screenings and hit
// dispositions.
func (s *Server) sanctionsRoutes(api *echo.Group) {
	r := func(p auth.Permission) echo.MiddlewareFunc { return s.require(p) }
	api.POST("/screenings", s.searchSanctions, r(auth.ScreeningRead))
	api.GET("/sanctions/lists", s.sanctionsLists, r(auth.ScreeningRead))
	api.GET("/clients/:client_id/screening", s.clientScreening, r(auth.ScreeningRead))
	api.POST("/clients/:client_id/screening/hits/:hit_id/disposition", s.disposeHit, r(auth.ScreeningWrite))
}

// errNoSanctions answers when the server was built without the sanctions service.
var errNoSanctions = fault.Errorf(fault.Unavailable, "sanctions screening is not configured on this server")

// Candidate is one listed entry found by POST /v1/screenings.
type Candidate struct {
	ID           string                 `json:"id"` // the entry reference, as hits are named
	List         sanctions.Source       `json:"list"`
	ListVersion  string                 `json:"list_version"`
	Entry        sanctions.Entry        `json:"entry"`
	MatchedName  string                 `json:"matched_name"`
	NameStrength sanctions.NameStrength `json:"name_strength"`
	Score        float64                `json:"score"`
	Explanation  sanctions.Explanation  `json:"explanation"`
}

type screeningResponse struct {
	Candidates   []Candidate                `json:"candidates"`
	ListVersions map[sanctions.Source]int64 `json:"list_versions"`
}

func (s *Server) searchSanctions(c echo.Context) error {
	if s.Sanctions == nil {
		return errNoSanctions
	}
	var q sanctions.Query
	if err := decodeJSON(c, &q); err != nil {
		return err
	}
	versions := s.Sanctions.Versions()
	ms, err := s.Sanctions.Search(q)
	if err != nil {
		return err
	}
	out := screeningResponse{Candidates: make([]Candidate, 0, len(ms)), ListVersions: map[sanctions.Source]int64{}}
	for src, v := range versions {
		out.ListVersions[src] = v.ID
	}
	for _, m := range ms {
		e := m.Entry
		version := e.ListVersion
		e.ListVersion = ""
		out.Candidates = append(out.Candidates, Candidate{ID: e.Ref().String(), List: e.Source, ListVersion: version, Entry: e,
			MatchedName: m.MatchedName, NameStrength: m.NameStrength, Score: m.Score, Explanation: m.Explanation})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) sanctionsLists(c echo.Context) error {
	if s.Sanctions == nil {
		return errNoSanctions
	}
	rep, err := s.Sanctions.Lists(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

func (s *Server) clientScreening(c echo.Context) error {
	if s.Sanctions == nil {
		return errNoSanctions
	}
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	sc, err := s.Sanctions.Screening(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sc)
}

type dispositionBody struct {
	Verdict *string `json:"verdict"`
	Note    *string `json:"note"`
}

type dispositionResponse struct {
	Disposition sanctions.Disposition `json:"disposition"`
	Screening   sanctions.Screening   `json:"screening"`
}

func (s *Server) disposeHit(c echo.Context) error {
	if s.Sanctions == nil {
		return errNoSanctions
	}
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	hitID, err := pathID(c, "hit_id")
	if err != nil {
		return err
	}
	var b dispositionBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var req required
	req.check(b.Verdict != nil, "verdict")
	req.check(b.Note != nil, "note")
	if err := req.err(); err != nil {
		return err
	}
	d, sc, err := s.Sanctions.Dispose(c.Request().Context(), id, hitID, sanctions.Verdict(*b.Verdict), *b.Note, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, dispositionResponse{Disposition: d, Screening: sc})
}
