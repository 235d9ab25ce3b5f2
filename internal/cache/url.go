package cache

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseURL turns a REDIS_URL into go-redis universal options. The forms are:
//
//	redis://[user:password@]host[:port][/db]                one node (port 6379 by default)
//	rediss://...                                           any form below, over TLS
//	redis://[user:password@]h1:p1,h2:p2[,...]              Redis Cluster: the seed nodes
//	redis://[user:password@]host:port?cluster=true         Redis Cluster through one configuration endpoint
//	redis://[user:password@]s1,s2:26379[/db]?master=NAME   Sentinel: the addresses are the sentinels
//	                                                       (port 26379 by default), NAME the master
//
// Query parameters: master, cluster, sentinel_username, sentinel_password. Any other is refused,
// so a typo does not silently select another topology. Cluster mode has no databases: a /db other
// than 0 is refused. Errors never repeat the URL, which may hold a password.
func ParseURL(raw string) (*redis.UniversalOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || (scheme != "redis" && scheme != "rediss") {
		return nil, fmt.Errorf("REDIS_URL must start with redis:// or rediss://")
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	if hosts == "" {
		return nil, fmt.Errorf("REDIS_URL names no host")
	}
	// url.Parse refuses a list of hosts, so it reads a one-host copy for the user, path and query.
	u, err := url.Parse(scheme + "://" + userinfo + "placeholder" + tail)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL is not a valid URL (user, path or query)")
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("REDIS_URL must not have a #fragment")
	}
	o := &redis.UniversalOptions{}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	q := u.Query()
	for name := range q {
		if !slices.Contains([]string{"master", "cluster", "sentinel_username", "sentinel_password"}, name) {
			return nil, fmt.Errorf("REDIS_URL has an unknown parameter %q (known: master, cluster, sentinel_username, sentinel_password)", name)
		}
	}
	o.MasterName = q.Get("master")
	o.SentinelUsername = q.Get("sentinel_username")
	o.SentinelPassword = q.Get("sentinel_password")
	switch c := q.Get("cluster"); c {
	case "", "false", "0":
	case "true", "1":
		o.IsClusterMode = true
	default:
		return nil, fmt.Errorf("REDIS_URL parameter cluster must be true or false, got %q", c)
	}
	if o.IsClusterMode && o.MasterName != "" {
		return nil, fmt.Errorf("REDIS_URL cannot set both cluster and master (sentinel)")
	}
	switch path := strings.Trim(u.Path, "/"); {
	case path == "":
	case strings.Contains(path, "/"):
		return nil, fmt.Errorf("REDIS_URL path must be a database number, got %q", u.Path)
	default:
		db, err := strconv.Atoi(path)
		if err != nil || db < 0 {
			return nil, fmt.Errorf("REDIS_URL path must be a database number, got %q", u.Path)
		}
		o.DB = db
	}
	defaultPort := "6379"
	if o.MasterName != "" {
		defaultPort = "26379"
	}
	for _, h := range strings.Split(hosts, ",") {
		addr, err := hostPort(h, defaultPort)
		if err != nil {
			return nil, err
		}
		o.Addrs = append(o.Addrs, addr)
	}
	if (len(o.Addrs) > 1 && o.MasterName == "") || o.IsClusterMode {
		o.IsClusterMode = true
		if o.DB != 0 {
			return nil, fmt.Errorf("REDIS_URL selects database %d, but Redis Cluster only has database 0", o.DB)
		}
	}
	if scheme == "rediss" {
		// No ServerName: tls.DialWithDialer takes it from each node's address, which a cluster needs.
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o, nil
}

// hostPort reads one "host", "host:port", "[v6]" or "[v6]:port" of the host list.
func hostPort(h, defaultPort string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("REDIS_URL has an empty host in its list")
	}
	host, port := h, defaultPort
	switch {
	case strings.HasPrefix(h, "["):
		end := strings.Index(h, "]")
		if end < 0 {
			return "", fmt.Errorf("REDIS_URL host %q has an unclosed [", h)
		}
		host = h[1:end]
		switch after := h[end+1:]; {
		case after == "":
		case strings.HasPrefix(after, ":"):
			port = after[1:]
		default:
			return "", fmt.Errorf("REDIS_URL host %q is not host:port", h)
		}
	case strings.Contains(h, ":"):
		var ok bool
		host, port, ok = strings.Cut(h, ":")
		if !ok || strings.Contains(port, ":") {
			return "", fmt.Errorf("REDIS_URL host %q is not host:port (write IPv6 addresses as [addr]:port)", h)
		}
	}
	if host == "" {
		return "", fmt.Errorf("REDIS_URL host %q has no name", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("REDIS_URL host %q has an invalid port", h)
	}
	return net.JoinHostPort(host, port), nil
}
