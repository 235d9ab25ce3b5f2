package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/auth"
)

func (s *Server) listKeys(c echo.Context) error {
	keys, err := s.Keys.List(c.Request().Context())
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []auth.Key{}
	}
	return c.JSON(http.StatusOK, Page[auth.Key]{Items: keys})
}

type keyBody struct {
	Name *string `json:"name"`
	Role *string `json:"role"`
}

// createdKey is the one answer that shows a key's secret.
type createdKey struct {
	auth.Key
	Secret string `json:"secret"`
}

func (s *Server) createKey(c echo.Context) error {
	var b keyBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var req required
	req.check(b.Name != nil, "name")
	req.check(b.Role != nil, "role")
	if err := req.err(); err != nil {
		return err
	}
	role, err := auth.ParseRole(*b.Role)
	if err != nil {
		return err
	}
	secret, k, err := s.Keys.Create(c.Request().Context(), *b.Name, role, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createdKey{Key: k, Secret: secret})
}

func (s *Server) revokeKey(c echo.Context) error {
	if err := s.Keys.Revoke(c.Request().Context(), c.Param("name"), actor(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
