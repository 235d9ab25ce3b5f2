package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) livez(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	if s.Ready == nil {
		return c.JSON(http.StatusOK, map[string]any{"status": "ready"})
	}
	details, err := s.Ready(c.Request().Context())
	if details == nil {
		details = map[string]any{}
	}
	if err != nil {
		details["status"] = "not ready"
		details["error"] = err.Error()
		return c.JSON(http.StatusServiceUnavailable, details)
	}
	details["status"] = "ready"
	return c.JSON(http.StatusOK, details)
}

func (s *Server) metricsHandler() echo.HandlerFunc {
	h := promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
	return echo.WrapHandler(h)
}

func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", s.OpenAPI)
}
