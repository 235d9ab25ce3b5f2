package solvency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sethvargo/go-retry"
	"golang.org/x/time/rate"
)

// HTTPOptions tune the guarded HTTP path every adapter uses. Zero values take the defaults noted;
// tests shrink the durations to milliseconds.
type HTTPOptions struct {
	Client        *http.Client  // default: a client with no overall timeout (each request has its own)
	Timeout       time.Duration // per request, body included (default 5 s)
	MaxAttempts   int           // attempts per request, first included (default 3)
	MaxTotal      time.Duration // cap on a whole Fetch, retries and pages included (default 20 s)
	BaseBackoff   time.Duration // first backoff, doubled each retry, ±25% jitter (default 200 ms)
	MaxBackoff    time.Duration // cap on one backoff (default 2 s)
	MaxRetryAfter time.Duration // a longer Retry-After ends the retries at once (default 10 s)
	MaxBody       int64         // bytes read from a response at most (default 4 MiB)
	Breaker       BreakerOptions
	Hooks         Hooks
	Logger        *slog.Logger     // default slog.Default()
	Now           func() time.Time // default time.Now
}

func (o HTTPOptions) withDefaults() HTTPOptions {
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: sameHostRedirects}
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.MaxTotal <= 0 {
		o.MaxTotal = 20 * time.Second
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 2 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 10 * time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 4 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Hooks let the integrator count fetches, retries and breaker changes (Prometheus, logs) without
// this package importing a metrics library. Any field may be nil. Hooks run synchronously and
// must not block; OnBreaker runs while the breaker holds its lock.
type Hooks struct {
	// OnFetch is called once per Fetch with its outcome: "ok", "not_found", "error",
	// "circuit_open" or "unsupported".
	OnFetch func(provider, outcome string, took time.Duration)
	// OnAttempt is called for each HTTP attempt with its status (0 for a network error).
	OnAttempt func(provider string, status int, err error)
	// OnBreaker is called when a provider's breaker changes state.
	OnBreaker func(provider string, from, to BreakerState)
}

// fetcher is one provider's guarded HTTP path: its breaker, optional rate limiter, and options.
type fetcher struct {
	name    string
	opts    HTTPOptions
	breaker *breaker
	limiter *rate.Limiter // nil: no client-side rate limit
}

func newFetcher(name string, opts HTTPOptions, limiter *rate.Limiter) *fetcher {
	opts = opts.withDefaults()
	var onChange func(from, to BreakerState)
	if h := opts.Hooks.OnBreaker; h != nil {
		onChange = func(from, to BreakerState) { h(name, from, to) }
	}
	return &fetcher{name: name, opts: opts, breaker: newBreaker(opts.Breaker, opts.Now, onChange), limiter: limiter}
}

// BreakerState reports the provider's breaker state, for readiness pages and metrics.
func (f *fetcher) BreakerState() BreakerState { return f.breaker.current() }

// run wraps a whole Fetch: breaker admission, the total time cap, the breaker verdict and the
// OnFetch hook. A caller's cancellation is no verdict on the provider.
func (f *fetcher) run(ctx context.Context, c Company, do func(ctx context.Context) (Snapshot, error)) (Snapshot, error) {
	start := f.opts.Now()
	if !f.breaker.allow() {
		f.fetched("circuit_open", start)
		return Snapshot{}, unavailable(f.name, &FetchError{Provider: f.name, Err: ErrCircuitOpen})
	}
	tctx, cancel := context.WithTimeout(ctx, f.opts.MaxTotal)
	defer cancel()
	s, err := do(tctx)
	switch {
	case err == nil:
		f.breaker.success()
		s.Provider, s.ClientID = f.name, c.ClientID
		if s.FetchedAt.IsZero() {
			s.FetchedAt = f.opts.Now().UTC()
		}
		outcome := "ok"
		if s.NotFound {
			outcome = "not_found"
		}
		f.fetched(outcome, start)
		return s, nil
	case errors.Is(err, ErrUnsupported):
		f.breaker.release()
		f.fetched("unsupported", start)
		return Snapshot{}, err
	case ctx.Err() != nil || errors.Is(err, errLimiterWait):
		// The caller gave up (or could not wait for our own rate limit): no verdict on the provider.
		f.breaker.release()
		f.fetched("error", start)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return Snapshot{}, fmt.Errorf("solvency provider %s: %w", f.name, err)
	default:
		f.breaker.failure()
		f.fetched("error", start)
		f.opts.Logger.Warn("solvency fetch failed", "provider", f.name, "client_id", c.ClientID, "error", err.Error())
		return Snapshot{}, unavailable(f.name, err)
	}
}

func (f *fetcher) fetched(outcome string, start time.Time) {
	if h := f.opts.Hooks.OnFetch; h != nil {
		h(f.name, outcome, f.opts.Now().Sub(start))
	}
}

// errLimiterWait: the caller's deadline ends before the client-side rate limit lets a request go.
var errLimiterWait = errors.New("the rate limit allows no request before the deadline")

// response is a successful exchange: the status (2xx, or 404 when the caller accepts it) and the
// body, already checked to be JSON.
type response struct {
	Status int
	Body   []byte
	URL    *url.URL // the URL that answered, after redirects
}

// getJSON sends GET url with the headers, retrying transient failures, and returns a JSON body.
// With accept404, a 404 is an answer (unknown company), returned with its status.
func (f *fetcher) getJSON(ctx context.Context, url string, header http.Header, accept404 bool) (response, error) {
	var (
		attempts   int
		lastStatus int
		lastErr    error
		retryAfter time.Duration // set by an attempt that got a Retry-After header
		mu         sync.Mutex
	)
	deadline, hasDeadline := ctx.Deadline()
	inner := retry.WithMaxRetries(uint64(f.opts.MaxAttempts-1),
		retry.WithCappedDuration(f.opts.MaxBackoff, retry.WithJitterPercent(25, retry.NewExponential(f.opts.BaseBackoff))))
	backoff := retry.BackoffFunc(func() (time.Duration, bool) {
		next, stop := inner.Next()
		if stop {
			return 0, true
		}
		mu.Lock()
		ra := retryAfter
		retryAfter = 0
		mu.Unlock()
		next = max(next, ra)
		if hasDeadline && time.Until(deadline) < next {
			return 0, true // waiting would run past the total budget: fail now
		}
		return next, false
	})

	resp, err := retry.DoValue(ctx, backoff, func(ctx context.Context) (response, error) {
		attempts++
		r, status, ra, err := f.attempt(ctx, url, header, accept404)
		lastStatus, lastErr = status, err
		if h := f.opts.Hooks.OnAttempt; h != nil {
			h(f.name, status, err)
		}
		if ra > f.opts.MaxRetryAfter {
			// The provider asks for a longer pause than we are willing to wait: give up now
			// rather than hammer it early.
			// Unwrap: the cause must no longer be marked retryable.
			return r, fmt.Errorf("%w; Retry-After %s exceeds the %s cap", errors.Unwrap(err), ra, f.opts.MaxRetryAfter)
		}
		if ra > 0 {
			mu.Lock()
			retryAfter = ra
			mu.Unlock()
		}
		return r, err
	})
	if err != nil {
		if lastErr != nil && lastErr != err && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			err = fmt.Errorf("%w (last attempt: %v)", err, lastErr)
		}
		return response{}, &FetchError{Provider: f.name, Status: lastStatus, Attempts: attempts, Err: err}
	}
	return resp, nil
}

// attempt makes one request. It returns the status it saw, the Retry-After it was asked to honour
// (0 when none) and an error marked retryable for network errors, 429 and 5xx.
func (f *fetcher) attempt(ctx context.Context, url string, header http.Header, accept404 bool) (response, int, time.Duration, error) {
	if f.limiter != nil {
		if err := f.limiter.Wait(ctx); err != nil {
			return response{}, 0, 0, fmt.Errorf("%w: %v", errLimiterWait, err)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return response{}, 0, 0, fmt.Errorf("build request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	res, err := f.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return response{}, 0, 0, ctx.Err() // the whole fetch is over: no retry
		}
		if errors.Is(err, errRedirect) {
			return response{}, 0, 0, redactURL(err)
		}
		return response{}, 0, 0, retry.RetryableError(redactURL(err))
	}
	defer res.Body.Close()
	status := res.StatusCode
	switch {
	case status == http.StatusTooManyRequests:
		drain(res.Body)
		ra := parseRetryAfter(res.Header.Get("Retry-After"), f.opts.Now())
		return response{}, status, ra, retry.RetryableError(ErrRateLimited)
	case status >= 500:
		drain(res.Body)
		ra := parseRetryAfter(res.Header.Get("Retry-After"), f.opts.Now())
		return response{}, status, ra, retry.RetryableError(fmt.Errorf("server error %s", res.Status))
	case status == http.StatusNotFound && accept404:
		drain(res.Body)
		return response{Status: status}, status, 0, nil
	case status < 200 || status > 299:
		drain(res.Body)
		return response{}, status, 0, fmt.Errorf("unexpected status %s", res.Status)
	}
	if err := checkJSONContentType(res.Header.Get("Content-Type")); err != nil {
		drain(res.Body)
		return response{}, status, 0, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, f.opts.MaxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return response{}, status, 0, ctx.Err()
		}
		// A body cut off mid-way (reset, per-request timeout) is transient.
		return response{}, status, 0, retry.RetryableError(fmt.Errorf("read body: %w", err))
	}
	if int64(len(body)) > f.opts.MaxBody {
		return response{}, status, 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.opts.MaxBody)
	}
	if !json.Valid(body) {
		return response{}, status, 0, fmt.Errorf("%w: body is not valid JSON", ErrMalformed)
	}
	return response{Status: status, Body: body, URL: res.Request.URL}, status, 0, nil
}

// errRedirect is a refused redirect: a configuration matter, not worth a retry.
var errRedirect = errors.New("refused redirect")

// sameHostRedirects follows at most 5 redirects and only within the same host: the default client
// would copy custom key headers (X-INSEE-Api-Key-Integration) to any host a provider points at.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("%w: more than 5", errRedirect)
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("%w to another host %s", errRedirect, req.URL.Host)
	}
	return nil
}

// checkJSONContentType accepts application/json and any +json type.
func checkJSONContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return fmt.Errorf("%w: content type %q, want application/json", ErrMalformed, ct)
	}
	return nil
}

// drain reads a little of an unwanted body so the connection can be reused, never much.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 4<<10)) }

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > 86400*365 {
			n = 86400 * 365
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redactURL drops the query string from a *url.Error's URL: error texts end up in logs, and a
// query is no business of theirs.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, _, _ := strings.Cut(ue.URL, "?")
		return &url.Error{Op: ue.Op, URL: u, Err: ue.Err}
	}
	return err
}

// decodeJSON decodes a body checked by getJSON into v; a shape mismatch is ErrMalformed.
func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}
