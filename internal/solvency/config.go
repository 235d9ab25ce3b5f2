package solvency

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxAge is how old a snapshot may get before it is stale and refreshed.
const DefaultMaxAge = 30 * 24 * time.Hour

// Config is the solvency configuration read from the environment. Empty URLs mean off.
type Config struct {
	BODACCURL     string // CREDO_BODACC_URL: default DefaultBODACCURL, "off" disables
	SIRENEURL     string // CREDO_SIRENE_URL: off until given with a key
	SIRENEKey     string // CREDO_SIRENE_KEY
	SIRENERate    int    // CREDO_SIRENE_RATE: requests per minute (default 30)
	BureauURL     string // CREDO_BUREAU_URL: off until given with a key and a mapping
	BureauKey     string // CREDO_BUREAU_KEY
	BureauMapping string // CREDO_BUREAU_MAPPING: path of the scale mapping YAML
	Currency      string // CREDO_CURRENCY (default EUR)
	MaxAge        time.Duration
	HTTP          HTTPOptions // not from the environment: set by the caller (hooks, logger)
}

// LogValue keeps keys out of logs: only whether each is set shows.
func (c Config) LogValue() slog.Value {
	set := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	return slog.GroupValue(
		slog.String("bodacc_url", c.BODACCURL), slog.String("sirene_url", c.SIRENEURL),
		slog.String("sirene_key", set(c.SIRENEKey)), slog.Int("sirene_rate", c.SIRENERate),
		slog.String("bureau_url", c.BureauURL), slog.String("bureau_key", set(c.BureauKey)),
		slog.String("bureau_mapping", c.BureauMapping), slog.String("currency", c.Currency),
		slog.Duration("max_age", c.MaxAge),
	)
}

// String is LogValue's text, so that printing a Config never shows a key.
func (c Config) String() string { return c.LogValue().String() }

// GoString keeps %#v from printing keys too.
func (c Config) GoString() string { return c.String() }

// ConfigFromEnv reads the CREDO_* solvency variables. A provider given half its settings (an
// address without a key) is an error rather than silently off: that is a mistake to fix.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	off := func(v string) bool { return strings.EqualFold(v, "off") }
	var errs []error
	c := Config{Currency: strings.ToUpper(get("CREDO_CURRENCY")), MaxAge: DefaultMaxAge}
	if c.Currency == "" {
		c.Currency = "EUR"
	}

	switch v := get("CREDO_BODACC_URL"); {
	case off(v):
	case v == "":
		c.BODACCURL = DefaultBODACCURL
	default:
		c.BODACCURL = v
	}

	su, sk := get("CREDO_SIRENE_URL"), get("CREDO_SIRENE_KEY")
	switch {
	case off(su) || off(sk) || su == "" && sk == "":
	case su == "" || sk == "":
		errs = append(errs, errors.New("SIRENE needs both CREDO_SIRENE_URL and CREDO_SIRENE_KEY (or off)"))
	default:
		c.SIRENEURL, c.SIRENEKey = su, sk
	}
	if v := get("CREDO_SIRENE_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 6000 {
			errs = append(errs, errors.New("CREDO_SIRENE_RATE must be requests per minute, 1 to 6000"))
		}
		c.SIRENERate = n
	}

	bu, bk, bm := get("CREDO_BUREAU_URL"), get("CREDO_BUREAU_KEY"), get("CREDO_BUREAU_MAPPING")
	switch {
	case off(bu) || off(bk) || bu == "" && bk == "":
	case bu == "" || bk == "":
		errs = append(errs, errors.New("the bureau needs both CREDO_BUREAU_URL and CREDO_BUREAU_KEY (or off)"))
	case bm == "":
		errs = append(errs, errors.New("the bureau needs CREDO_BUREAU_MAPPING: its scale decides every grade"))
	default:
		c.BureauURL, c.BureauKey, c.BureauMapping = bu, bk, bm
	}

	if v := get("CREDO_SOLVENCY_MAX_AGE"); v != "" {
		d, err := parseAge(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("CREDO_SOLVENCY_MAX_AGE: %w", err))
		}
		c.MaxAge = d
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("solvency configuration: %w", err)
	}
	return c, nil
}

// parseAge reads "30d", "720h" or any Go duration; it must be positive.
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			return 0, errors.New("must be a number of days such as 30d, or a duration such as 720h")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("must be a number of days such as 30d, or a duration such as 720h")
	}
	return d, nil
}

// Providers builds the enabled adapters, BODACC first.
func (c Config) Providers() ([]Provider, error) {
	var ps []Provider
	if c.BODACCURL != "" {
		p, err := NewBODACC(c.BODACCURL, c.HTTP)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if c.SIRENEURL != "" {
		p, err := NewSIRENE(c.SIRENEURL, c.SIRENEKey, c.SIRENERate, c.HTTP)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if c.BureauURL != "" {
		m, err := LoadMapping(c.BureauMapping)
		if err != nil {
			return nil, err
		}
		p, err := NewBureau(c.BureauURL, c.BureauKey, m, c.Currency, c.HTTP)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// ProvidersFromEnv reads the configuration and builds the enabled providers with default HTTP
// options. Use ConfigFromEnv and Config.Providers to set hooks or a logger.
func ProvidersFromEnv(getenv func(string) string) ([]Provider, error) {
	c, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return c.Providers()
}
