package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// FactsSource builds receivables facts from the ledger; postgres.Metrics implements it. With
// forecast the facts carry what receivables.Forecast needs (groups per client, the portfolio's
// weighted dbt); without it, only what receivables.Compute reads.
type FactsSource interface {
	ClientFacts(ctx context.Context, clientID string, asOf ledger.Date, forecast bool) (receivables.Facts, error)
	PortfolioFacts(ctx context.Context, asOf ledger.Date, country, sector string, forecast bool) (receivables.Facts, error)
}

// metricsRoutes serves the receivables KPIs and collection forecasts (finance, credit managers).
func (s *Server) metricsRoutes(api *echo.Group) {
	read := s.require(auth.MetricsRead)
	api.GET("/clients/:client_id/metrics", s.clientMetrics, read)
	api.GET("/clients/:client_id/forecast", s.clientForecast, read)
	api.GET("/portfolio/metrics", s.portfolioMetrics, read)
	api.GET("/portfolio/forecast", s.portfolioForecast, read)
}

func (s *Server) clientMetrics(c echo.Context) error {
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	asOf, _, err := metricsQuery(c, false)
	if err != nil {
		return err
	}
	f, err := s.Metrics.ClientFacts(c.Request().Context(), id, asOf, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, receivables.Compute(f))
}

func (s *Server) clientForecast(c echo.Context) error {
	id, err := pathID(c, "client_id")
	if err != nil {
		return err
	}
	asOf, horizon, err := metricsQuery(c, true)
	if err != nil {
		return err
	}
	f, err := s.Metrics.ClientFacts(c.Request().Context(), id, asOf, true)
	if err != nil {
		return err
	}
	return forecastJSON(c, f, horizon)
}

func (s *Server) portfolioMetrics(c echo.Context) error {
	asOf, _, err := metricsQuery(c, false)
	if err != nil {
		return err
	}
	country, sector, err := portfolioFilter(c)
	if err != nil {
		return err
	}
	f, err := s.Metrics.PortfolioFacts(c.Request().Context(), asOf, country, sector, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, receivables.Compute(f))
}

func (s *Server) portfolioForecast(c echo.Context) error {
	asOf, horizon, err := metricsQuery(c, true)
	if err != nil {
		return err
	}
	country, sector, err := portfolioFilter(c)
	if err != nil {
		return err
	}
	f, err := s.Metrics.PortfolioFacts(c.Request().Context(), asOf, country, sector, true)
	if err != nil {
		return err
	}
	return forecastJSON(c, f, horizon)
}

func forecastJSON(c echo.Context, f receivables.Facts, horizon int) error {
	fc, err := receivables.Forecast(f, horizon)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, fc)
}

// metricsQuery reads as_of (default today) and, for a forecast, horizon_days; both bad are
// reported together in one 400.
func metricsQuery(c echo.Context, forecast bool) (asOf ledger.Date, horizon int, err error) {
	var bad []fault.FieldError
	asOf, err = receivables.ParseAsOf(c.QueryParam("as_of"), ledger.Today())
	bad = appendFields(bad, err)
	if forecast {
		horizon, err = receivables.ParseHorizon(c.QueryParam("horizon_days"))
		bad = appendFields(bad, err)
	}
	if len(bad) > 0 {
		return 0, 0, &fault.Error{Code: fault.BadRequest, Message: "bad query parameter", Fields: bad}
	}
	return asOf, horizon, nil
}

func appendFields(fields []fault.FieldError, err error) []fault.FieldError {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return append(fields, fe.Fields...)
	}
	return fields
}

// portfolioFilter reads the optional country (an ISO code, any case) and sector filters.
func portfolioFilter(c echo.Context) (country, sector string, err error) {
	country = strings.ToUpper(strings.TrimSpace(c.QueryParam("country")))
	if country != "" && !ledger.ValidCountry(country) {
		return "", "", &fault.Error{Code: fault.BadRequest, Message: "bad query parameter",
			Fields: []fault.FieldError{fault.Field("country", "must be an ISO 3166-1 alpha-2 code such as FR, got %q", c.QueryParam("country"))}}
	}
	return country, strings.TrimSpace(c.QueryParam("sector")), nil
}
