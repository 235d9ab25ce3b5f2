// Package config reads Credo's configuration from the environment.
package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration. Secrets (keys, passwords in URLs) must never be logged:
// LogValue gives a redacted view.
type Config struct {
	DatabaseURL     string
	RedisURL        string
	RedisPrefix     string
	HTTPAddr        string
	Currency        string
	AutoMigrate     bool
	BodyLimit       int64
	ImportBodyLimit int64
	RequestTimeout  time.Duration
	ImportTimeout   time.Duration
	ShutdownTimeout time.Duration
	KeyCacheTTL     time.Duration
	LogLevel        string
	Env             func(string) string // the raw environment, for the packages that read their own CREDO_* settings
}

// DefaultDatabaseURL is the local development database.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/credo?sslmode=disable"

// Load reads the configuration with getenv (os.Getenv in production, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		RedisURL:    getenv("REDIS_URL"),
		RedisPrefix: getenv("CREDO_REDIS_PREFIX"),
		HTTPAddr:    getenv("CREDO_HTTP_ADDR"),
		Currency:    strings.ToUpper(getenv("CREDO_CURRENCY")),
		LogLevel:    getenv("CREDO_LOG_LEVEL"),
		Env:         getenv,
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = DefaultDatabaseURL
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = "credo:"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	if c.Currency == "" {
		c.Currency = "EUR"
	}
	if len(c.Currency) != 3 || strings.Trim(c.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return c, fmt.Errorf("CREDO_CURRENCY must be an ISO 4217 code such as EUR, got %q", c.Currency)
	}
	var err error
	if c.AutoMigrate, err = Bool(getenv, "CREDO_AUTO_MIGRATE", true); err != nil {
		return c, err
	}
	if c.BodyLimit, err = Int(getenv, "CREDO_BODY_LIMIT", 1<<20); err != nil {
		return c, err
	}
	if c.ImportBodyLimit, err = Int(getenv, "CREDO_IMPORT_BODY_LIMIT", 512<<20); err != nil {
		return c, err
	}
	if c.RequestTimeout, err = Duration(getenv, "CREDO_REQUEST_TIMEOUT", 30*time.Second); err != nil {
		return c, err
	}
	if c.ImportTimeout, err = Duration(getenv, "CREDO_IMPORT_TIMEOUT", 30*time.Minute); err != nil {
		return c, err
	}
	if c.ShutdownTimeout, err = Duration(getenv, "CREDO_SHUTDOWN_TIMEOUT", 30*time.Second); err != nil {
		return c, err
	}
	if c.KeyCacheTTL, err = Duration(getenv, "CREDO_KEY_CACHE_TTL", 10*time.Second); err != nil {
		return c, err
	}
	return c, nil
}

// Duration reads a Go duration ("30s", "24h") or returns def when unset.
func Duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s must be a duration such as 30s or 24h, got %q", name, v)
	}
	return d, nil
}

// Int reads a non-negative integer or returns def when unset.
func Int(getenv func(string) string, name string, def int64) (int64, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer, got %q", name, v)
	}
	return n, nil
}

// Bool reads true/false (also 1/0, yes/no) or returns def when unset.
func Bool(getenv func(string) string, name string, def bool) (bool, error) {
	switch strings.ToLower(getenv(name)) {
	case "":
		return def, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s must be true or false, got %q", name, getenv(name))
}
