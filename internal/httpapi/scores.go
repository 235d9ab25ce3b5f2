package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/scoring"
)

// scoresRoutes registers the scoring models and the clients' scores, explanations and history.
func (s *Server) scoresRoutes(api *echo.Group) {
	api.GET("/models", s.listModels, s.require(auth.ModelsRead))
	api.GET("/clients/:client_id/score", s.getScore, s.require(auth.ScoreRead))
	api.GET("/clients/:client_id/score/explanation", s.getScoreExplanation, s.require(auth.ExplanationRead))
	api.GET("/clients/:client_id/score/history", s.getScoreHistory, s.require(auth.ExplanationRead))
}

// errNoScores answers when the server was built without the scoring service.
var errNoScores = fault.Errorf(fault.Unavailable, "scoring is not configured on this server")

// modelInfo is one model of GET /v1/models.
type modelInfo struct {
	scoring.Info
	Active bool `json:"active"`
}

type modelsResponse struct {
	Active string      `json:"active"`
	Models []modelInfo `json:"models"`
}

func (s *Server) listModels(c echo.Context) error {
	if s.Scores == nil {
		return errNoScores
	}
	active := s.Scores.Model()
	out := modelsResponse{Active: active.Version(), Models: []modelInfo{}}
	for _, m := range s.Scores.Models() {
		out.Models = append(out.Models, modelInfo{Info: m.Info(), Active: m == active})
	}
	return c.JSON(http.StatusOK, out)
}

// getScore is the hot path: a cached score is bytes from the cache written as they are.
func (s *Server) getScore(c echo.Context) error {
	if s.Scores == nil {
		return errNoScores
	}
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	refresh, err := queryBool(c, "refresh")
	if err != nil {
		return err
	}
	lang := scoring.Lang(c.Request().Header.Get("Accept-Language"))
	card, err := s.Scores.Score(c.Request().Context(), id, refresh)
	if err != nil {
		return err
	}
	// No Vary: answers are Cache-Control no-store, so no shared cache keeps them.
	c.Response().Header()["Content-Language"] = contentLanguage[lang]
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, card.ScoreJSON(lang))
}

// contentLanguage holds the header values, shared by every answer (net/http only reads them).
var contentLanguage = map[string][]string{"en": {"en"}, "fr": {"fr"}}

func (s *Server) getScoreExplanation(c echo.Context) error {
	if s.Scores == nil {
		return errNoScores
	}
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	b, err := s.Scores.Explanation(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}

type historyResponse struct {
	ClientID string                 `json:"client_id"`
	History  []scoring.HistoryEntry `json:"history"`
}

func (s *Server) getScoreHistory(c echo.Context) error {
	if s.Scores == nil {
		return errNoScores
	}
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 100)
	if err != nil {
		return err
	}
	h, err := s.Scores.History(c.Request().Context(), id, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, historyResponse{ClientID: id, History: h})
}
