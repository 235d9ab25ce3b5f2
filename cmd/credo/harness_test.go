package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo"
	"github.com/credorisk/credo/internal/postgres/pgtest"
)

// testServer is the whole credo program serving on a real port, on a fresh database, with one
// API key per role. Every response it sees is checked against openapi.yaml.
type testServer struct {
	t    testing.TB
	URL  string
	env  map[string]string
	Keys map[string]string // role -> key
	stop func()
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

func openAPIRouter(t testing.TB) routers.Router {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(credo.OpenAPI)
		if err != nil {
			specErr = fmt.Errorf("load openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			specErr = fmt.Errorf("openapi.yaml is not valid: %w", err)
			return
		}
		doc.Servers = nil
		specRouter, specErr = legacy.NewRouter(doc)
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return specRouter
}

// testEnv is the environment of a test program: a fresh database, Redis unless told otherwise.
func testEnv(t testing.TB, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":        pgtest.MustURL(t),
		"REDIS_URL":           os.Getenv("REDIS_URL"),
		"CREDO_REDIS_PREFIX":  fmt.Sprintf("credo-test:%d:%s:", os.Getpid(), t.Name()),
		"CREDO_KEY_CACHE_TTL": "0s",
		"CREDO_LOG_LEVEL":     "info",
		"CREDO_BODACC_URL":    "off", // tests never reach the public register
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// credo runs a credo command in-process with the test's environment and returns its stdout.
func credoCmd(t testing.TB, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	if err != nil {
		return out.String(), fmt.Errorf("%w\nstderr: %s", err, errb.String())
	}
	return out.String(), nil
}

func mustCredo(t testing.TB, env map[string]string, args ...string) string {
	t.Helper()
	out, err := credoCmd(t, env, args...)
	if err != nil {
		t.Fatalf("credo %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// startServer migrates a fresh database, creates a key per role and starts `credo serve`.
func startServer(t testing.TB, extra map[string]string) *testServer {
	t.Helper()
	env := testEnv(t, extra)
	return startServerEnv(t, env, true)
}

// startServerEnv starts `credo serve` on env; with keys, it first creates one key per role.
func startServerEnv(t testing.TB, env map[string]string, keys bool) *testServer {
	t.Helper()
	s := &testServer{t: t, env: env, Keys: map[string]string{}}
	mustCredo(t, env, "migrate")
	if keys {
		for _, role := range []string{"admin", "ingest", "sales", "finance", "credit_manager"} {
			s.Keys[role] = strings.TrimSpace(mustCredo(t, env, "keys", "create", "--name", "test-"+role, "--role", role))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The server listens on a port picked here, and is up once /livez answers: this works at any
	// log level.
	addr := withDefault(env, "CREDO_HTTP_ADDR", "")["CREDO_HTTP_ADDR"]
	if addr == "" || strings.HasSuffix(addr, ":0") {
		addr = freeAddr(t)
	}
	serveEnv := withDefault(env, "CREDO_HTTP_ADDR", addr)
	serveEnv["CREDO_HTTP_ADDR"] = addr
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return serveEnv[k] }, io.Discard, &logs)
	}()
	s.URL = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/livez")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("credo serve stopped: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("credo serve did not answer within 60s\n%s", logs.String())
		}
	}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("credo serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("credo serve did not stop within 30s")
			}
		})
	}
	t.Cleanup(s.stop)
	return s
}

func withDefault(env map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range env {
		out[a] = b
	}
	if out[k] == "" {
		out[k] = v
	}
	return out
}

// response is a received answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// req describes a request; Body is marshalled to JSON unless it is a string or []byte.
type req struct {
	Method, Path, Key string
	Body              any
	ContentType       string
	Header            map[string]string
}

// do sends a request and checks the answer against openapi.yaml.
func (s *testServer) do(r req) *response {
	s.t.Helper()
	var body io.Reader
	ct := r.ContentType
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		body = bytes.NewReader(j)
		if ct == "" {
			ct = "application/json"
		}
	}
	hr, err := http.NewRequest(r.Method, s.URL+r.Path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.Key != "" {
		hr.Header.Set("Authorization", "Bearer "+r.Key)
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	out := &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	s.checkContract(hr, out)
	return out
}

// checkContract fails the test when the answer is not what openapi.yaml says for that route.
func (s *testServer) checkContract(hr *http.Request, r *response) {
	s.t.Helper()
	router := openAPIRouter(s.t)
	route, params, err := router.FindRoute(hr)
	if err != nil {
		if r.Status == http.StatusNotFound || r.Status == http.StatusMethodNotAllowed {
			return // an unknown route is refused; the contract has nothing to say
		}
		s.t.Errorf("%s %s answered %d but is not in openapi.yaml: %v", hr.Method, hr.URL.Path, r.Status, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		s.t.Errorf("%s %s answered %d, which openapi.yaml does not allow:\n%v\nbody: %.2000s", hr.Method, hr.URL.Path, r.Status, err, r.Body)
	}
}

// expect sends a request and fails unless the status is want; it returns the answer.
func (s *testServer) expect(want int, r req) *response {
	s.t.Helper()
	resp := s.do(r)
	if resp.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d\nbody: %.3000s", r.Method, r.Path, resp.Status, want, resp.Body)
	}
	return resp
}

// problem checks an answer is a problem document with the status, and returns it.
func (r *response) problem(t testing.TB) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.Body)
	}
	return r.Map(t)
}

// fieldErrors returns the "field" of each entry of a problem's errors.
func fieldsOf(t testing.TB, p map[string]any) []string {
	t.Helper()
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		out = append(out, m["field"].(string))
	}
	return out
}

// mustQueryRow runs one query on the database at url and scans its single row into dst.
func mustQueryRow(tb testing.TB, url, query string, dst ...any) {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), query).Scan(dst...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// freeAddr finds a free loopback port for a test server.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects a server's log lines for a failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		s.b.Reset()
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
