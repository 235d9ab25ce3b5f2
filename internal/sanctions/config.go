package sanctions

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/credorisk/credo/internal/config"
)

// OfficialURLs are the lists' official addresses, the refresh job's defaults. OFAC's is a base
// to which the four file names of ofacFiles are appended.
var OfficialURLs = map[Source]string{
	SourceOFAC: "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/",
	SourceUN:   "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
	SourceEU:   "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/content?token=dG9rZW4tMjAxNw",
	SourceUK:   "https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.xml",
	SourceFR:   "https://gels-avoirs.dgtresor.gouv.fr/ApiPublic/api/v1/publication/derniere-publication-fichier-json",
}

// ofacFile is one file of the OFAC legacy CSV set.
type ofacFile struct {
	name     string // as published
	optional bool   // a mirror without it still gives a usable list
}

// ofacFiles are the OFAC files in the order ParseOFAC and ContentHash take them.
var ofacFiles = []ofacFile{{"SDN.CSV", false}, {"ALT.CSV", false}, {"ADD.CSV", false}, {"SDN_COMMENTS.CSV", true}}

// Config is the sanctions service's configuration (CREDO_SANCTIONS_*).
type Config struct {
	// URLs is where the refresh job downloads each list; a source absent here is not refreshed.
	URLs map[Source]string
	// Refresh is the interval between downloads of a list; 0 turns the refresh job off.
	Refresh time.Duration
	// StartDelay is how long after start the first download of a list that is due may run: a
	// deploy settles first, and replicas starting together do not all download at once.
	StartDelay time.Duration
	// RetryFailed is how soon a failed or refused refresh is tried again (at most Refresh).
	RetryFailed time.Duration
	// Sync is how often a replica looks in Postgres for list versions another process stored.
	Sync time.Duration
	// Catchup is how often the clients changed outside this process (CLI imports, other
	// replicas' misses) are looked for and screened.
	Catchup time.Duration
	// Attempts caps the tries of one download; RetryMaxTime caps the time they may take in all;
	// BaseBackoff is the first wait between tries (doubling, with jitter, capped at MaxBackoff).
	Attempts     int
	RetryMaxTime time.Duration
	BaseBackoff  time.Duration
	MaxBackoff   time.Duration
	// Timeout bounds one HTTP request; MaxBytes one downloaded file.
	Timeout  time.Duration
	MaxBytes int64
	// Batch is how many clients a rescreen reads and saves at a time.
	Batch int
}

// DefaultConfig is the configuration with every variable unset.
func DefaultConfig() Config {
	urls := map[Source]string{}
	for s, u := range OfficialURLs {
		urls[s] = u
	}
	return Config{
		URLs: urls, Refresh: 24 * time.Hour, StartDelay: time.Minute, RetryFailed: time.Hour,
		Sync: 30 * time.Second, Catchup: 5 * time.Minute,
		Attempts: 5, RetryMaxTime: 10 * time.Minute, BaseBackoff: 2 * time.Second, MaxBackoff: time.Minute,
		Timeout: 5 * time.Minute, MaxBytes: 256 << 20, Batch: 500,
	}
}

// ConfigFromEnv reads the configuration:
//
//	CREDO_SANCTIONS_OFAC_URL, _UN_URL, _EU_URL, _UK_URL, _FR_URL   a list's address, "off" to not download it
//	CREDO_SANCTIONS_REFRESH        interval between downloads (default 24h; "off" or 0: no refresh job)
//	CREDO_SANCTIONS_REFRESH_DELAY  delay before the first download after start (default 1m)
//	CREDO_SANCTIONS_RETRY_FAILED   retry interval after a failed or refused refresh (default 1h)
//	CREDO_SANCTIONS_SYNC           how often to load versions stored by other processes (default 30s)
//	CREDO_SANCTIONS_CATCHUP        how often to screen clients changed elsewhere (default 5m)
//	CREDO_SANCTIONS_RETRY_ATTEMPTS tries per download (default 5); CREDO_SANCTIONS_RETRY_MAX_TIME (default 10m)
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	for _, s := range Sources {
		name := "CREDO_SANCTIONS_" + strings.ToUpper(string(s)) + "_URL"
		v := strings.TrimSpace(getenv(name))
		switch {
		case v == "":
		case strings.EqualFold(v, "off"):
			delete(c.URLs, s)
		default:
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return c, fmt.Errorf("%s must be an http(s) address or off, got %q", name, redactURL(v))
			}
			c.URLs[s] = v
		}
	}
	durations := []struct {
		name string
		dst  *time.Duration
		off  bool // "off" means 0
	}{
		{"CREDO_SANCTIONS_REFRESH", &c.Refresh, true},
		{"CREDO_SANCTIONS_REFRESH_DELAY", &c.StartDelay, false},
		{"CREDO_SANCTIONS_RETRY_FAILED", &c.RetryFailed, false},
		{"CREDO_SANCTIONS_SYNC", &c.Sync, true},
		{"CREDO_SANCTIONS_CATCHUP", &c.Catchup, true},
		{"CREDO_SANCTIONS_RETRY_MAX_TIME", &c.RetryMaxTime, false},
	}
	for _, d := range durations {
		if d.off && strings.EqualFold(strings.TrimSpace(getenv(d.name)), "off") {
			*d.dst = 0
			continue
		}
		v, err := config.Duration(getenv, d.name, *d.dst)
		if err != nil {
			return c, err
		}
		*d.dst = v
	}
	n, err := config.Int(getenv, "CREDO_SANCTIONS_RETRY_ATTEMPTS", int64(c.Attempts))
	if err != nil {
		return c, err
	}
	if n < 1 || n > 20 {
		return c, fmt.Errorf("CREDO_SANCTIONS_RETRY_ATTEMPTS must be between 1 and 20, got %d", n)
	}
	c.Attempts = int(n)
	if c.RetryFailed <= 0 {
		return c, fmt.Errorf("CREDO_SANCTIONS_RETRY_FAILED must be above 0")
	}
	return c, nil
}

// redactURL drops what a URL may hide credentials in (user info, query) before it is shown in
// logs, errors or the API.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable address)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}
