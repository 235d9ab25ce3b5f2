package cache

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Options
		err  string
	}{
		{name: "defaults", want: Options{Timeout: 50 * time.Millisecond, DialTimeout: 250 * time.Millisecond,
			ProbeInterval: 500 * time.Millisecond, L1TTL: 5 * time.Second, L1Size: 100_000}},
		{name: "everything set", env: map[string]string{
			"CREDO_REDIS_TIMEOUT": "20ms", "CREDO_REDIS_DIAL_TIMEOUT": "1s", "CREDO_REDIS_PROBE_INTERVAL": "2s",
			"CREDO_REDIS_POOL_SIZE": "64", "CREDO_CACHE_L1_TTL": "250ms", "CREDO_CACHE_L1_SIZE": "500"},
			want: Options{Timeout: 20 * time.Millisecond, DialTimeout: time.Second, ProbeInterval: 2 * time.Second,
				PoolSize: 64, L1TTL: 250 * time.Millisecond, L1Size: 500}},
		{name: "L1 off", env: map[string]string{"CREDO_CACHE_L1_TTL": "0"}, want: Options{Timeout: 50 * time.Millisecond,
			DialTimeout: 250 * time.Millisecond, ProbeInterval: 500 * time.Millisecond, L1TTL: -1, L1Size: 100_000}},
		{name: "bad timeout", env: map[string]string{"CREDO_REDIS_TIMEOUT": "fast"}, err: "CREDO_REDIS_TIMEOUT"},
		{name: "zero timeout", env: map[string]string{"CREDO_REDIS_TIMEOUT": "0s"}, err: "CREDO_REDIS_TIMEOUT must be above zero"},
		{name: "negative pool", env: map[string]string{"CREDO_REDIS_POOL_SIZE": "-1"}, err: "CREDO_REDIS_POOL_SIZE"},
		{name: "zero L1 size", env: map[string]string{"CREDO_CACHE_L1_SIZE": "0"}, err: "CREDO_CACHE_L1_SIZE must be above zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OptionsFromEnv(func(k string) string { return tt.env[k] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Timeout != tt.want.Timeout || got.DialTimeout != tt.want.DialTimeout || got.ProbeInterval != tt.want.ProbeInterval ||
				got.PoolSize != tt.want.PoolSize || got.L1TTL != tt.want.L1TTL || got.L1Size != tt.want.L1Size {
				t.Errorf("OptionsFromEnv = %+v, want %+v", got, tt.want)
			}
		})
	}
}
