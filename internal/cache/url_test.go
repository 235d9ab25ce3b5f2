package cache

import (
	"slices"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		addrs   []string
		db      int
		cluster bool
		master  string
		user    string
		pass    string
		tls     bool
		err     string
	}{
		{name: "single node", url: "redis://127.0.0.1:6379/0", addrs: []string{"127.0.0.1:6379"}},
		{name: "default port and db", url: "redis://cache.internal", addrs: []string{"cache.internal:6379"}},
		{name: "database number", url: "redis://h:7000/3", addrs: []string{"h:7000"}, db: 3},
		{name: "password only", url: "redis://:s3cret@h:6379/1", addrs: []string{"h:6379"}, db: 1, pass: "s3cret"},
		{name: "user and escaped password", url: "redis://app:p%40ss@h/0", addrs: []string{"h:6379"}, user: "app", pass: "p@ss"},
		{name: "tls", url: "rediss://h:6380", addrs: []string{"h:6380"}, tls: true},
		{name: "ipv6", url: "redis://[::1]:6380/2", addrs: []string{"[::1]:6380"}, db: 2},
		{name: "cluster seed list", url: "redis://u:p@n1:7000,n2:7001,n3", addrs: []string{"n1:7000", "n2:7001", "n3:6379"}, cluster: true, user: "u", pass: "p"},
		{name: "cluster endpoint", url: "rediss://cfg.example:6379?cluster=true", addrs: []string{"cfg.example:6379"}, cluster: true, tls: true},
		{name: "sentinel", url: "redis://:pw@s1,s2:26380/4?master=credo&sentinel_password=spw", addrs: []string{"s1:26379", "s2:26380"}, db: 4, master: "credo", pass: "pw"},
		{name: "sentinel one address", url: "redis://s1:26379?master=m", addrs: []string{"s1:26379"}, master: "m"},

		{name: "wrong scheme", url: "http://h:6379", err: "must start with redis://"},
		{name: "no scheme", url: "h:6379", err: "must start with redis://"},
		{name: "no host", url: "redis:///0", err: "names no host"},
		{name: "empty host in list", url: "redis://a:1,,b:2", err: "empty host"},
		{name: "bad port", url: "redis://h:notaport", err: "invalid port"},
		{name: "port out of range", url: "redis://h:70000", err: "invalid port"},
		{name: "bad db", url: "redis://h/x", err: "database number"},
		{name: "nested path", url: "redis://h/1/2", err: "database number"},
		{name: "unknown parameter", url: "redis://h?read_timeout=1s", err: `unknown parameter "read_timeout"`},
		{name: "bad cluster flag", url: "redis://h?cluster=maybe", err: "cluster must be true or false"},
		{name: "cluster and sentinel", url: "redis://h?cluster=true&master=m", err: "both cluster and master"},
		{name: "cluster with a database", url: "redis://a:1,b:2/3", err: "only has database 0"},
		{name: "bare ipv6", url: "redis://::1:6379", err: "not host:port"},
		{name: "fragment", url: "redis://h#x", err: "fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseURL(%q) error = %v, want one containing %q", tt.url, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.url, err)
			}
			if !slices.Equal(o.Addrs, tt.addrs) || o.DB != tt.db || o.IsClusterMode != tt.cluster || o.MasterName != tt.master ||
				o.Username != tt.user || o.Password != tt.pass || (o.TLSConfig != nil) != tt.tls {
				t.Errorf("ParseURL(%q) = addrs %v db %d cluster %v master %q user %q pass %q tls %v, want %v %d %v %q %q %q %v",
					tt.url, o.Addrs, o.DB, o.IsClusterMode, o.MasterName, o.Username, o.Password, o.TLSConfig != nil,
					tt.addrs, tt.db, tt.cluster, tt.master, tt.user, tt.pass, tt.tls)
			}
		})
	}
}

// A password must not leak into an error message that may be logged.
func TestParseURLErrorsHideThePassword(t *testing.T) {
	for _, url := range []string{"redis://u:topsecret@h:bad", "redis://u:topsecret@h?nope=1", "redis://u:topsecret@h/x"} {
		_, err := ParseURL(url)
		if err == nil {
			t.Fatalf("ParseURL(%q) accepted a bad URL", url)
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("ParseURL error shows the password: %v", err)
		}
	}
}

func TestParseURLSentinelPassword(t *testing.T) {
	o, err := ParseURL("redis://s1?master=m&sentinel_username=su&sentinel_password=sp")
	if err != nil {
		t.Fatal(err)
	}
	if o.SentinelUsername != "su" || o.SentinelPassword != "sp" {
		t.Errorf("sentinel credentials = %q/%q, want su/sp", o.SentinelUsername, o.SentinelPassword)
	}
}
