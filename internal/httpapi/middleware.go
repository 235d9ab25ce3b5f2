package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credo_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "credo_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 128 || strings.ContainsAny(id, "\r\n") {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = &fault.Error{Code: fault.Internal, Message: "internal error", Err: fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
			}
		}()
		return next(c)
	}
}

// observe logs each request (one structured line) and records its metrics.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		d := time.Since(start)
		method := c.Request().Method
		s.metrics.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(route, method).Observe(d.Seconds())
		if s.log.Enabled(c.Request().Context(), levelFor(status)) {
			actor := ""
			if p, ok := principalOf(c); ok {
				actor = p.Name
			}
			s.log.Log(c.Request().Context(), levelFor(status), "request",
				"method", method, "route", route, "path", c.Request().URL.Path, "status", status,
				"duration_ms", float64(d.Microseconds())/1000, "bytes", c.Response().Size,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "key", actor)
		}
		return nil
	}
}

func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

// limits bounds the request body and the time a handler may take.
func (s *Server) limits(maxBody int64, timeout time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > maxBody {
				return &fault.Error{Code: fault.TooLarge, Message: fmt.Sprintf("the body is over the limit of %d bytes", maxBody)}
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, maxBody)
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			c.SetRequest(r.WithContext(ctx))
			return next(c)
		}
	}
}

const principalKey = "credo.principal"

func principalOf(c echo.Context) (auth.Principal, bool) {
	p, ok := c.Get(principalKey).(auth.Principal)
	return p, ok
}

// actor is the name recorded for the caller's writes.
func actor(c echo.Context) string {
	p, _ := principalOf(c)
	return p.Name
}

// require authenticates the caller and checks the permission.
func (s *Server) require(perm auth.Permission) echo.MiddlewareFunc { return s.requireAny(perm) }

// requireAny authenticates the caller and checks it holds one of the permissions (the handler
// narrows what a weaker one sees).
func (s *Server) requireAny(perms ...auth.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || token == "" {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="credo"`)
				return auth.ErrUnauthenticated
			}
			p, err := s.Keys.Authenticate(c.Request().Context(), strings.TrimSpace(token))
			if err != nil {
				if fault.Code(err) == fault.Unauthenticated {
					c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="credo", error="invalid_token"`)
				}
				return err
			}
			c.Set(principalKey, p)
			for _, perm := range perms {
				if p.Role.Can(perm) {
					return next(c)
				}
			}
			return fault.Errorf(fault.Forbidden, "the %s role may not do this (needs %s)", p.Role, perms[0])
		}
	}
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
