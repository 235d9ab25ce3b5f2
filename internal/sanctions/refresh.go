package sanctions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sethvargo/go-retry"

	"github.com/credorisk/credo/internal/fault"
)

// Refresh downloads one list from its configured address and accepts it if it is good. A failed
// download (after its retries), an unparsable file or one with fewer than half the previous
// entries keeps the last good version; the outcome is recorded (GET /v1/sanctions/lists shows
// it), logged, and returned. The error is for a failure to record or to reach Postgres.
func (s *Service) Refresh(ctx context.Context, src Source) (RefreshOutcome, error) {
	base, ok := s.cfg.URLs[src]
	if !ok {
		return RefreshOutcome{}, fault.Errorf(fault.Invalid, "the %s list has no download address (CREDO_SANCTIONS_%s_URL is off)", src, strings.ToUpper(string(src)))
	}
	if s.active.Load() {
		// Another replica may have stored a newer version: serve it, and compare against it.
		if _, err := s.sync(ctx); err != nil {
			return RefreshOutcome{}, err
		}
	}
	st, err := s.state(ctx, src)
	if err != nil {
		return RefreshOutcome{}, err
	}
	log := s.log.With("source", src)
	keep := "no version loaded yet"
	if st.Current != nil {
		keep = fmt.Sprintf("keeping version %d (%d entries, loaded %s)", st.Current.ID, st.Current.EntryCount, st.Current.LoadedAt.UTC().Format(time.RFC3339))
	}
	out := RefreshOutcome{At: s.Now().UTC()}
	var validators map[string]Validator
	files, got, notModified, err := s.download(ctx, src, base, st)
	switch {
	case err != nil && ctx.Err() != nil:
		return RefreshOutcome{}, ctx.Err()
	case err != nil:
		out.Outcome, out.Message = OutcomeFailed, fmt.Sprintf("download failed: %v; %s", err, keep)
		log.Error("sanctions: list download failed, "+keep, "error", err.Error())
	case notModified:
		out.Outcome, out.Message = OutcomeNotModified, "the server says the list has not changed"
		log.Info("sanctions: list not modified")
	default:
		v, oc, err := s.accept(ctx, candidate{src: src, files: files, origin: OriginDownload, location: redactURL(base), validators: got, actor: systemActor})
		var refused *errRefused
		switch {
		case errors.As(err, &refused):
			out.Outcome, out.Message = OutcomeRefused, fmt.Sprintf("%v; %s", refused.err, keep)
			log.Error("sanctions: downloaded list refused, "+keep, "error", refused.err.Error())
		case err != nil:
			return RefreshOutcome{}, err
		case oc == OutcomeUnchanged:
			out.Outcome, out.Message, validators = OutcomeUnchanged, fmt.Sprintf("same content as version %d", v.ID), got
			log.Info("sanctions: list unchanged", "version", v.ID)
		default:
			out.Outcome, out.Message = OutcomeLoaded, fmt.Sprintf("version %d, %d entries", v.ID, v.EntryCount)
			log.Info("sanctions: new list version loaded", "version", v.ID, "entries", v.EntryCount)
		}
	}
	if err := s.store.RecordRefresh(ctx, src, out, validators, systemActor); err != nil {
		return out, err
	}
	return out, nil
}

// Downloads reports whether a list has a download address (CREDO_SANCTIONS_<SOURCE>_URL not off).
func (s *Service) Downloads(src Source) bool {
	_, ok := s.cfg.URLs[src]
	return ok
}

// fetched is one downloaded file.
type fetched struct {
	body        []byte
	validator   Validator
	notModified bool
	missing     bool // an optional file the server does not have
}

// listURLs are the addresses of a source's files: OFAC's base with each file name appended.
func listURLs(src Source, base string) []string {
	if src != SourceOFAC {
		return []string{base}
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	out := make([]string, len(ofacFiles))
	for i, f := range ofacFiles {
		out[i] = base + f.name
	}
	return out
}

// download fetches a source's files, conditionally when a version is loaded. It reports
// notModified when every file is unchanged; when only some are, those are fetched again in full,
// since a version is always made of all its files.
func (s *Service) download(ctx context.Context, src Source, base string, st ListState) ([][]byte, map[string]Validator, bool, error) {
	urls := listURLs(src, base)
	res := make([]fetched, len(urls))
	unchanged := 0
	for i, u := range urls {
		var v Validator
		if st.Current != nil {
			v = st.Validators[u]
		}
		optional := src == SourceOFAC && ofacFiles[i].optional
		r, err := s.fetch(ctx, u, v, optional)
		if err != nil {
			return nil, nil, false, err
		}
		res[i] = r
		if r.notModified || r.missing {
			unchanged++
		}
	}
	if unchanged == len(urls) && res[0].notModified {
		return nil, nil, true, nil
	}
	files := make([][]byte, 0, len(urls))
	validators := map[string]Validator{}
	for i, u := range urls {
		r := res[i]
		if r.notModified {
			var err error
			if r, err = s.fetch(ctx, u, Validator{}, false); err != nil {
				return nil, nil, false, err
			}
			if r.notModified {
				return nil, nil, false, fmt.Errorf("%s: 304 Not Modified to an unconditional request", redactURL(u))
			}
		}
		if r.missing {
			continue
		}
		files = append(files, r.body)
		if r.validator != (Validator{}) {
			validators[u] = r.validator
		}
	}
	return files, validators, false, nil
}

// fetch downloads one file with retries: exponential backoff with jitter, capped in attempts and
// in total time. Network errors, a body cut short, 408, 429 and 5xx are retried; other answers
// are final.
func (s *Service) fetch(ctx context.Context, u string, v Validator, optional bool) (fetched, error) {
	b := retry.WithMaxRetries(uint64(max(s.cfg.Attempts, 1)-1),
		retry.WithCappedDuration(s.cfg.MaxBackoff, retry.WithJitterPercent(20, retry.NewExponential(s.cfg.BaseBackoff))))
	if s.cfg.RetryMaxTime > 0 {
		b = retry.WithMaxDuration(s.cfg.RetryMaxTime, b)
	}
	attempts := 0
	r, err := retry.DoValue(ctx, b, func(ctx context.Context) (fetched, error) {
		attempts++
		return s.attempt(ctx, u, v, optional)
	})
	if err != nil {
		return fetched{}, fmt.Errorf("%s after %d attempt(s): %w", redactURL(u), attempts, err)
	}
	return r, nil
}

func (s *Service) attempt(ctx context.Context, u string, v Validator, optional bool) (fetched, error) {
	rctx := ctx
	if s.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", "credo-sanctions-refresh/1")
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	resp, err := s.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fetched{}, ctx.Err()
		}
		return fetched{}, retry.RetryableError(unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch st := resp.StatusCode; {
	case st == http.StatusNotModified:
		return fetched{notModified: true}, nil
	case st == http.StatusNotFound && optional:
		return fetched{missing: true}, nil
	case st == http.StatusRequestTimeout || st == http.StatusTooManyRequests || st >= 500:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fetched{}, retry.RetryableError(fmt.Errorf("the server answered %s", resp.Status))
	case st < 200 || st > 299:
		return fetched{}, fmt.Errorf("the server answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return fetched{}, ctx.Err()
		}
		// A transfer cut short (connection reset, shorter than Content-Length) is transient.
		return fetched{}, retry.RetryableError(fmt.Errorf("read body: %w", unwrapURLError(err)))
	}
	if int64(len(body)) > s.cfg.MaxBytes {
		return fetched{}, fmt.Errorf("the file is over %d bytes", s.cfg.MaxBytes)
	}
	return fetched{body: body, validator: Validator{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}}, nil
}

// unwrapURLError drops the address net/http puts in its errors: it may carry a token (the EU
// list's), and the caller names the address redacted.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// nextRefresh is when a list is due: an interval after its last attempt or load (sooner after a
// failure), and not before the start delay has passed.
func (s *Service) nextRefresh(st ListState, now time.Time) time.Time {
	earliest := s.started.Add(s.cfg.StartDelay)
	var last time.Time
	wait := s.cfg.Refresh
	if st.Current != nil {
		last = st.Current.LoadedAt
	}
	if st.LastRefresh != nil && st.LastRefresh.At.After(last) {
		last = st.LastRefresh.At
		if !st.LastRefresh.Succeeded() {
			wait = min(s.cfg.RetryFailed, s.cfg.Refresh)
		}
	}
	if last.IsZero() {
		return earliest
	}
	next := last.Add(wait)
	if next.Before(earliest) {
		return earliest
	}
	return next
}

// refreshLoop downloads each list when it is due. Replicas share the schedule through Postgres
// (the last attempt of each list), so a list refreshed by one replica is not downloaded again by
// the others within the interval.
func (s *Service) refreshLoop(ctx context.Context) {
	tried := map[Source]time.Time{} // guards against a tight loop when attempts cannot be recorded
	for ctx.Err() == nil {
		states := map[Source]ListState{}
		all, err := s.store.ListStates(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("sanctions: cannot read list states for the refresh schedule", "error", err.Error())
			}
			if !sleep(ctx, time.Minute) {
				return
			}
			continue
		}
		for _, st := range all {
			states[st.Source] = st
		}
		now := s.Now()
		wake := now.Add(10 * time.Minute) // look again now and then: other replicas move the schedule
		for _, src := range Sources {
			if _, ok := s.cfg.URLs[src]; !ok {
				continue
			}
			st := states[src]
			if st.Source == "" {
				st.Source = src
			}
			next := s.nextRefresh(st, now)
			if t, ok := tried[src]; ok {
				if guard := t.Add(min(s.cfg.RetryFailed, s.cfg.Refresh)); next.Before(guard) {
					next = guard
				}
			}
			if next.After(now) {
				if next.Before(wake) {
					wake = next
				}
				continue
			}
			tried[src] = now
			if _, err := s.Refresh(ctx, src); err != nil && ctx.Err() == nil {
				s.log.Error("sanctions: refresh could not be recorded", "source", src, "error", err.Error())
			}
			wake = now // recompute after the work
		}
		if d := wake.Sub(s.Now()); d > 0 && !sleep(ctx, d) {
			return
		}
	}
}
