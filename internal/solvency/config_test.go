package solvency

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	mapping := filepath.Join("..", "..", "deploy", "bureau-mapping.example.yaml")
	tests := []struct {
		name      string
		env       map[string]string
		providers []string
		maxAge    time.Duration
		err       string
	}{
		{name: "defaults: BODACC only", env: nil, providers: []string{"bodacc"}, maxAge: 30 * 24 * time.Hour},
		{name: "everything off", env: map[string]string{"CREDO_BODACC_URL": "off"}, providers: nil},
		{name: "all on", env: map[string]string{
			"CREDO_SIRENE_URL": "https://api.insee.fr/api-sirene/3.11", "CREDO_SIRENE_KEY": "s3cr3t-sirene",
			"CREDO_BUREAU_URL": "https://connect.creditsafe.example/v1", "CREDO_BUREAU_KEY": "s3cr3t-bureau",
			"CREDO_BUREAU_MAPPING": mapping, "CREDO_SOLVENCY_MAX_AGE": "7d",
		}, providers: []string{"bodacc", "sirene", "bureau"}, maxAge: 7 * 24 * time.Hour},
		{name: "off wins over a key", env: map[string]string{
			"CREDO_SIRENE_URL": "off", "CREDO_SIRENE_KEY": "k", "CREDO_BUREAU_URL": "https://b.example", "CREDO_BUREAU_KEY": "OFF",
		}, providers: []string{"bodacc"}},
		{name: "custom BODACC mirror and Go duration", env: map[string]string{
			"CREDO_BODACC_URL": "http://bodacc.internal:8080", "CREDO_SOLVENCY_MAX_AGE": "36h",
		}, providers: []string{"bodacc"}, maxAge: 36 * time.Hour},
		{name: "SIRENE address without key", env: map[string]string{"CREDO_SIRENE_URL": "https://api.insee.fr/api-sirene/3.11"}, err: "CREDO_SIRENE_KEY"},
		{name: "bureau key without address", env: map[string]string{"CREDO_BUREAU_KEY": "k"}, err: "CREDO_BUREAU_URL"},
		{name: "bureau without mapping", env: map[string]string{"CREDO_BUREAU_URL": "https://b.example", "CREDO_BUREAU_KEY": "k"}, err: "CREDO_BUREAU_MAPPING"},
		{name: "bureau mapping file missing", env: map[string]string{"CREDO_BUREAU_URL": "https://b.example", "CREDO_BUREAU_KEY": "k", "CREDO_BUREAU_MAPPING": "/nonexistent.yaml"}, err: "nonexistent"},
		{name: "bad BODACC URL", env: map[string]string{"CREDO_BODACC_URL": "bodacc"}, err: "absolute"},
		{name: "bad max age", env: map[string]string{"CREDO_SOLVENCY_MAX_AGE": "a month"}, err: "CREDO_SOLVENCY_MAX_AGE"},
		{name: "zero days", env: map[string]string{"CREDO_SOLVENCY_MAX_AGE": "0d"}, err: "CREDO_SOLVENCY_MAX_AGE"},
		{name: "bad SIRENE rate", env: map[string]string{"CREDO_SIRENE_RATE": "fast"}, err: "CREDO_SIRENE_RATE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := ProvidersFromEnv(envOf(tt.env))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to mention %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range ps {
				names = append(names, p.Name())
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.providers) {
				t.Errorf("providers %v, want %v", names, tt.providers)
			}
			if tt.maxAge != 0 {
				c, _ := ConfigFromEnv(envOf(tt.env))
				if c.MaxAge != tt.maxAge {
					t.Errorf("max age %s, want %s", c.MaxAge, tt.maxAge)
				}
			}
		})
	}
}

func TestConfigNeverShowsKeys(t *testing.T) {
	c, err := ConfigFromEnv(envOf(map[string]string{
		"CREDO_SIRENE_URL": "https://api.insee.fr/api-sirene/3.11", "CREDO_SIRENE_KEY": "s3cr3t-sirene",
		"CREDO_BUREAU_URL": "https://b.example", "CREDO_BUREAU_KEY": "s3cr3t-bureau", "CREDO_BUREAU_MAPPING": "x.yaml",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "solvency", c)
	for _, out := range []string{buf.String(), c.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("a key leaked: %s", out)
		}
		if !strings.Contains(out, "sirene_key") {
			t.Errorf("the output does not say whether the key is set: %s", out)
		}
	}
}
