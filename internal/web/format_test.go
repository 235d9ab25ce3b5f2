package web

import (
	"math"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/config"
	"github.com/credorisk/credo/internal/ledger"
)

func TestMoney(t *testing.T) {
	en, fr := locale{"en", "EUR"}, locale{"fr", "EUR"}
	tests := []struct {
		cents  ledger.Money
		en, fr string
	}{
		{0, "€0.00", "0,00\u00a0€"},
		{5, "€0.05", "0,05\u00a0€"},
		{99, "€0.99", "0,99\u00a0€"},
		{100, "€1.00", "1,00\u00a0€"},
		{123456, "€1,234.56", "1\u202f234,56\u00a0€"},
		{99999999, "€999,999.99", "999\u202f999,99\u00a0€"},
		{100000000, "€1,000,000.00", "1\u202f000\u202f000,00\u00a0€"},
		{-150000, "-€1,500.00", "-1\u202f500,00\u00a0€"},
		{-1, "-€0.01", "-0,01\u00a0€"},
		{math.MaxInt64, "€92,233,720,368,547,758.07", "92\u202f233\u202f720\u202f368\u202f547\u202f758,07\u00a0€"},
	}
	for _, tt := range tests {
		if got := en.money(tt.cents); got != tt.en {
			t.Errorf("en %d: %q, want %q", tt.cents, got, tt.en)
		}
		if got := fr.money(tt.cents); got != tt.fr {
			t.Errorf("fr %d: %q, want %q", tt.cents, got, tt.fr)
		}
	}
}

func TestNumbers(t *testing.T) {
	en, fr := locale{"en", "EUR"}, locale{"fr", "EUR"}
	tests := []struct {
		x        float64
		decimals int
		en, fr   string
	}{
		{23.18, 2, "23.18", "23,18"},
		{23.175, 1, "23.2", "23,2"},
		{1234.5, 1, "1,234.5", "1\u202f234,5"},
		{-2.69, 1, "-2.7", "-2,7"},
		{-0.04, 1, "0.0", "0,0"}, // no negative zero
		{723, 0, "723", "723"},
		{1e6, 0, "1,000,000", "1\u202f000\u202f000"},
		{math.NaN(), 1, dash, dash},
		{math.Inf(1), 1, dash, dash},
	}
	for _, tt := range tests {
		if got := en.number(tt.x, tt.decimals); got != tt.en {
			t.Errorf("en %v/%d: %q, want %q", tt.x, tt.decimals, got, tt.en)
		}
		if got := fr.number(tt.x, tt.decimals); got != tt.fr {
			t.Errorf("fr %v/%d: %q, want %q", tt.x, tt.decimals, got, tt.fr)
		}
	}
	for _, tt := range []struct {
		x      float64
		en, fr string
	}{{0.1984, "19.8%", "19,8\u202f%"}, {1, "100.0%", "100,0\u202f%"}, {0, "0.0%", "0,0\u202f%"}} {
		if got := en.percent(tt.x, 1); got != tt.en {
			t.Errorf("en percent %v: %q", tt.x, got)
		}
		if got := fr.percent(tt.x, 1); got != tt.fr {
			t.Errorf("fr percent %v: %q", tt.x, got)
		}
	}
	for _, tt := range []struct {
		x    float64
		want string
	}{{29.27, "29.27"}, {0.25, "0.25"}, {20, "20"}, {0.0125, "0.0125"}, {1.0 / 3, "0.3333"}, {1200, "1,200"}} {
		if got := en.shortest(tt.x); got != tt.want {
			t.Errorf("shortest %v: %q, want %q", tt.x, got, tt.want)
		}
	}
}

func TestDates(t *testing.T) {
	en, fr := locale{"en", "EUR"}, locale{"fr", "EUR"}
	tests := []struct {
		d                        ledger.Date
		en, fr, enShort, frShort string
	}{
		{ledger.DateOf(2026, time.November, 23), "23 Nov 2026", "23/11/2026", "23 Nov", "23/11"},
		{ledger.DateOf(2027, time.January, 5), "5 Jan 2027", "05/01/2027", "5 Jan", "05/01"},
		{ledger.DateOf(2024, time.February, 29), "29 Feb 2024", "29/02/2024", "29 Feb", "29/02"},
		{ledger.DateOf(1999, time.December, 31), "31 Dec 1999", "31/12/1999", "31 Dec", "31/12"},
	}
	for _, tt := range tests {
		if got := en.date(tt.d); got != tt.en {
			t.Errorf("en %s: %q", tt.d, got)
		}
		if got := fr.date(tt.d); got != tt.fr {
			t.Errorf("fr %s: %q", tt.d, got)
		}
		if got := en.shortDate(tt.d); got != tt.enShort {
			t.Errorf("en short %s: %q", tt.d, got)
		}
		if got := fr.shortDate(tt.d); got != tt.frShort {
			t.Errorf("fr short %s: %q", tt.d, got)
		}
	}
	// Instants are shown in UTC, whatever their zone.
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2026, time.November, 24, 0, 30, 0, 0, paris)
	if got := en.timestamp(at); got != "23 Nov 2026 23:30 UTC" {
		t.Errorf("timestamp: %q", got)
	}
	if got := fr.timestamp(at); got != "23/11/2026 23:30 UTC" {
		t.Errorf("fr timestamp: %q", got)
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		secret  bool
		ttl     time.Duration
		idle    time.Duration
		wantErr bool
	}{
		{"defaults", nil, false, 8 * time.Hour, 30 * time.Minute, false},
		{"set", map[string]string{"CREDO_CONSOLE_SECRET": "a-random-string-of-at-least-32-chars!", "CREDO_CONSOLE_SESSION_TTL": "2h",
			"CREDO_CONSOLE_IDLE_TIMEOUT": "5m"}, true, 2 * time.Hour, 5 * time.Minute, false},
		{"a short secret", map[string]string{"CREDO_CONSOLE_SECRET": "short"}, false, 0, 0, true},
		{"a bad duration", map[string]string{"CREDO_CONSOLE_SESSION_TTL": "8 hours"}, false, 0, 0, true},
		{"a zero idle timeout", map[string]string{"CREDO_CONSOLE_IDLE_TIMEOUT": "0s"}, false, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tt.env[k] }, testBaseConfig())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			if (c.Secret != nil) != tt.secret || c.SessionTTL != tt.ttl || c.IdleTimeout != tt.idle || c.Currency != "EUR" || c.RequestTimeout != 30*time.Second {
				t.Errorf("config %+v", c)
			}
		})
	}
	if _, err := New(Deps{Keys: MustConsole(t).auth}, Config{Secret: []byte("short"), SessionTTL: time.Hour, IdleTimeout: time.Minute}); err == nil {
		t.Error("New accepts a short secret")
	}
}

func TestSecrets(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if len(a) != MinSecretLen || string(a) == string(b) {
		t.Fatalf("secrets %x %x", a, b)
	}
	if SecretFingerprint(a) == SecretFingerprint(b) || SecretFingerprint(a) != SecretFingerprint(append([]byte(nil), a...)) || len(SecretFingerprint(a)) != 8 {
		t.Error("fingerprints do not tell secrets apart")
	}
	k := deriveKeys(a)
	s := session{Key: "credo_x", ID: "id", Issued: 1, Seen: 2}
	sealed := k.sealSession(s)
	if got, err := k.openSession(sealed); err != nil || got != s {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if sealed == k.sealSession(s) {
		t.Error("two seals of one session are equal: the nonce is not random")
	}
	if _, err := deriveKeys(b).openSession(sealed); err == nil {
		t.Error("another secret opens the session")
	}
	if k.csrfToken(s) == k.loginToken(s.ID) {
		t.Error("a CSRF token passes for a sign-in token")
	}
}

func testBaseConfig() config.Config {
	return config.Config{Currency: "EUR", RequestTimeout: 30 * time.Second}
}
