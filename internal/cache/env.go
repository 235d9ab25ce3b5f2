package cache

import (
	"fmt"
	"time"

	"github.com/credorisk/credo/internal/config"
)

// OptionsFromEnv reads the cache settings from the environment (Log, Registerer and
// OnStateChange are left for the caller):
//
//	CREDO_REDIS_TIMEOUT         read and write timeout of each Redis command (default 50ms)
//	CREDO_REDIS_DIAL_TIMEOUT    timeout of a new Redis connection (default 250ms)
//	CREDO_REDIS_PROBE_INTERVAL  how often Redis is pinged, up or down (default 500ms)
//	CREDO_REDIS_POOL_SIZE       connections per Redis node (default 10 per CPU)
//	CREDO_CACHE_L1_TTL          lifetime of an in-process copy with Redis (default 5s; 0 disables them)
//	CREDO_CACHE_L1_SIZE         in-process entries per namespace (default 100000)
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var o Options
	var err error
	if o.Timeout, err = config.Duration(getenv, "CREDO_REDIS_TIMEOUT", 50*time.Millisecond); err != nil {
		return o, err
	}
	if o.DialTimeout, err = config.Duration(getenv, "CREDO_REDIS_DIAL_TIMEOUT", 250*time.Millisecond); err != nil {
		return o, err
	}
	if o.ProbeInterval, err = config.Duration(getenv, "CREDO_REDIS_PROBE_INTERVAL", 500*time.Millisecond); err != nil {
		return o, err
	}
	for name, d := range map[string]time.Duration{"CREDO_REDIS_TIMEOUT": o.Timeout, "CREDO_REDIS_DIAL_TIMEOUT": o.DialTimeout, "CREDO_REDIS_PROBE_INTERVAL": o.ProbeInterval} {
		if d <= 0 {
			return o, fmt.Errorf("%s must be above zero", name)
		}
	}
	pool, err := config.Int(getenv, "CREDO_REDIS_POOL_SIZE", 0)
	if err != nil {
		return o, err
	}
	o.PoolSize = int(pool)
	if o.L1TTL, err = config.Duration(getenv, "CREDO_CACHE_L1_TTL", 5*time.Second); err != nil {
		return o, err
	}
	if o.L1TTL == 0 {
		o.L1TTL = -1 // Options reads zero as the default
	}
	size, err := config.Int(getenv, "CREDO_CACHE_L1_SIZE", 100_000)
	if err != nil {
		return o, err
	}
	if size == 0 {
		return o, fmt.Errorf("CREDO_CACHE_L1_SIZE must be above zero")
	}
	o.L1Size = int(size)
	return o, nil
}
