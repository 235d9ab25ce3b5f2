package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/solvency"
)

// solvencyRoutes registers a client's solvency (latest snapshot per provider and the merged
// view), the refresh from the providers, and the import of bureau exports. The import is a static
// route under /v1/imports, which echo matches before the ledger's /v1/imports/:kind; it takes the
// import body limit and timeout.
func (s *Server) solvencyRoutes(api *echo.Group) {
	r := func(p auth.Permission) echo.MiddlewareFunc { return s.require(p) }
	api.GET("/clients/:client_id/solvency", s.clientSolvency, r(auth.SolvencyRead))
	api.POST("/clients/:client_id/solvency/refresh", s.refreshSolvency, r(auth.SolvencyRefresh))
	s.echo.POST("/v1/imports/solvency", s.importSolvency, s.limits(s.Config.ImportBodyLimit, s.Config.ImportTimeout), r(auth.SolvencyWrite))
}

// errNoSolvency answers when the server was built without the solvency service.
var errNoSolvency = fault.Errorf(fault.Unavailable, "solvency data is not configured on this server")

func (s *Server) clientSolvency(c echo.Context) error {
	if s.Solvency == nil {
		return errNoSolvency
	}
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	for name := range c.QueryParams() {
		if name != "raw" {
			return &fault.Error{Code: fault.BadRequest, Message: "unknown query parameter", Fields: []fault.FieldError{fault.Field(name, "is not a parameter of this route")}}
		}
	}
	raw, err := queryBool(c, "raw")
	if err != nil {
		return err
	}
	rep, err := s.Solvency.Report(c.Request().Context(), id, raw)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

func (s *Server) refreshSolvency(c echo.Context) error {
	if s.Solvency == nil {
		return errNoSolvency
	}
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	rep, err := s.Solvency.Refresh(c.Request().Context(), id, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// readErrorTap remembers the error that ended reading the body, so that a body over the limit is
// answered 413 even when the CSV reader turned it into a parse error.
type readErrorTap struct {
	r   io.Reader
	err error
}

func (t *readErrorTap) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	return n, err
}

func (s *Server) importSolvency(c echo.Context) error {
	if s.Solvency == nil {
		return errNoSolvency
	}
	for name := range c.QueryParams() {
		switch name {
		case "map", "date_format", "delimiter", "decimal", "provider", "atomic":
		default:
			return &fault.Error{Code: fault.BadRequest, Message: "unknown query parameter", Fields: []fault.FieldError{fault.Field(name, "is not a parameter of a solvency import")}}
		}
	}
	atomic, err := queryBool(c, "atomic")
	if err != nil {
		return err
	}
	ct, _, _ := strings.Cut(c.Request().Header.Get(echo.HeaderContentType), ";")
	switch strings.TrimSpace(ct) {
	case "text/csv", "application/csv":
	default:
		return fault.Validation("unsupported file type", fault.Field("Content-Type", "must be text/csv, got %q", ct))
	}
	body := &readErrorTap{r: c.Request().Body}
	rep, err := s.Solvency.Import(c.Request().Context(), body, solvency.ImportOptions{
		CSV: solvency.CSVParams{Map: c.QueryParam("map"), DateFormat: c.QueryParam("date_format"), Delimiter: c.QueryParam("delimiter"),
			Decimal: c.QueryParam("decimal"), Provider: c.QueryParam("provider")},
		Atomic: atomic, Actor: actor(c)})
	if body.err != nil {
		return bodyReadError(body.err)
	}
	if err != nil {
		if atomic && rep.Rejected > 0 {
			return withReport{error: err, report: rep}
		}
		return err
	}
	return c.JSON(http.StatusOK, rep)
}
