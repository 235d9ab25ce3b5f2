package httpapi

import "github.com/labstack/echo/v4"

// consoleRoutes mounts the web console (internal/web, a plain http.Handler) under /console. It
// takes the server's request id, log, metrics and secure headers; it bounds its own bodies and
// time, and sets its own cache and content-security headers.
func (s *Server) consoleRoutes() {
	if s.Console == nil {
		return
	}
	h := echo.WrapHandler(s.Console)
	s.echo.Any("/console", h)
	s.echo.Any("/console/*", h)
}
