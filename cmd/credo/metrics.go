package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// metricsCmd prints the receivables KPIs (and, with --horizon, the collection forecast) of a
// client or of the portfolio, as a report for a person or as the API's JSON documents.
func (c *cli) metricsCmd(args []string) error {
	fs := c.flags("metrics")
	client := fs.String("client", "", "one client's figures (default: the whole portfolio)")
	asOf := fs.String("as-of", "", "the date the figures are computed as of, YYYY-MM-DD (default: today, UTC)")
	country := fs.String("country", "", "portfolio only: the clients of this country (ISO code such as FR)")
	sector := fs.String("sector", "", "portfolio only: the clients of this sector")
	horizon := fs.String("horizon", "", "also forecast collections over this many days (1 to 730)")
	asJSON := fs.Bool("json", false, "print {\"metrics\": ..., \"forecast\": ...} as the API answers them")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // the flags were printed; nothing to compute
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	*country = strings.ToUpper(strings.TrimSpace(*country))
	*sector = strings.TrimSpace(*sector)
	if *client != "" && (*country != "" || *sector != "") {
		return fmt.Errorf("%w: --country and --sector filter the portfolio; they do not apply with --client", errUsage)
	}
	if *country != "" && !ledger.ValidCountry(*country) {
		return fmt.Errorf("%w: --country must be an ISO 3166-1 alpha-2 code such as FR, got %q", errUsage, *country)
	}
	d, err := receivables.ParseAsOf(*asOf, ledger.Today())
	if err != nil {
		return fmt.Errorf("%w: --as-of %s", errUsage, fieldMessage(err))
	}
	days := 0
	if *horizon != "" {
		if days, err = receivables.ParseHorizon(*horizon); err != nil {
			return fmt.Errorf("%w: --horizon %s", errUsage, fieldMessage(err))
		}
	}

	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	forecast := days > 0
	var m receivables.Metrics
	var fc *receivables.ForecastResult
	scope := "the portfolio"
	if *client != "" {
		cl, err := a.ledger.GetClient(c.ctx, *client)
		if err != nil {
			return fmt.Errorf("%s", describe(err))
		}
		scope = fmt.Sprintf("client %s (%s)", cl.ClientID, cl.Name)
		// One client's facts are complete either way; with forecast they carry its fallback.
		facts, err := a.metrics.ClientFacts(c.ctx, cl.ClientID, d, forecast)
		if err != nil {
			return fmt.Errorf("%s", describe(err))
		}
		m = receivables.Compute(facts)
		if fc, err = forecastOf(facts, days); err != nil {
			return err
		}
	} else {
		var filters []string
		if *country != "" {
			filters = append(filters, "country "+*country)
		}
		if *sector != "" {
			filters = append(filters, "sector "+*sector)
		}
		if len(filters) > 0 {
			scope += " (" + strings.Join(filters, ", ") + ")"
		}
		// A portfolio's facts are built for one use: the metrics, then the forecast.
		facts, err := a.metrics.PortfolioFacts(c.ctx, d, *country, *sector, false)
		if err != nil {
			return fmt.Errorf("%s", describe(err))
		}
		m = receivables.Compute(facts)
		if forecast {
			if facts, err = a.metrics.PortfolioFacts(c.ctx, d, *country, *sector, true); err != nil {
				return fmt.Errorf("%s", describe(err))
			}
			if fc, err = forecastOf(facts, days); err != nil {
				return err
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Metrics  receivables.Metrics         `json:"metrics"`
			Forecast *receivables.ForecastResult `json:"forecast,omitempty"`
		}{m, fc})
	}
	return receivables.WriteReport(c.stdout, scope, m, fc)
}

// forecastOf is the forecast over days, nil when days is 0 (no forecast asked).
func forecastOf(f receivables.Facts, days int) (*receivables.ForecastResult, error) {
	if days == 0 {
		return nil, nil
	}
	r, err := receivables.Forecast(f, days)
	return &r, err
}

// fieldMessage is the message of a parameter error's first field, for a flag-named message.
func fieldMessage(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) && len(fe.Fields) > 0 {
		return fe.Fields[0].Message
	}
	return err.Error()
}
