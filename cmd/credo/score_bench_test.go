package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadConns is the number of connections of the load generator, as wrk -c32.
const loadConns = 32

// BenchmarkScoreCachedGET is GET /v1/clients/{id}/score answered from the cache by the real
// `credo serve` (Redis when REDIS_URL answers, the in-process level in front), under a
// keep-alive load generator of 32 connections in the same process: the figure includes the
// generator's own CPU, as wrk on the same 2-core machine would (the target: 10,000
// requests/s). Each iteration sends 20,000 requests.
func BenchmarkScoreCachedGET(b *testing.B) {
	// The production key cache (the harness turns it off to test revocations).
	s := startServer(b, map[string]string{"CREDO_LOG_LEVEL": "info", "CREDO_KEY_CACHE_TTL": "10s"})
	mustBenchLedger(b, s)
	host := strings.TrimPrefix(s.URL, "http://")
	request := []byte("GET /v1/clients/ACME/score HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " +
		s.Keys["sales"] + "\r\nAccept-Language: fr\r\n\r\n")
	const perIteration = 20_000
	var took time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := loadScores(host, request, perIteration); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
	}
	b.ReportMetric(float64(b.N*perIteration)/took.Seconds(), "req/s")
}

// mustBenchLedger lands scoreLedger's clients and warms ACME's score in the cache.
func mustBenchLedger(b *testing.B, s *testServer) {
	b.Helper()
	key := s.Keys["ingest"]
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/ACME", Key: key, Body: map[string]any{"name": "ACME SA", "country": "FR"}})
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/invoices/A1", Key: key, Body: invoiceBody("ACME", scoreDay(-50), scoreDay(-20), 2000)})
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/ACME/score", Key: s.Keys["sales"]})
}

// loadScores sends n requests over loadConns keep-alive connections and checks every answer is a 200.
func loadScores(host string, request []byte, n int) error {
	var left atomic.Int64
	left.Store(int64(n))
	errs := make([]error, loadConns)
	var wg sync.WaitGroup
	for i := range loadConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = loadConn(host, request, &left)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func loadConn(host string, request []byte, left *atomic.Int64) error {
	c, err := net.Dial("tcp", host)
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 16<<10)
	for left.Add(-1) >= 0 {
		if _, err := c.Write(request); err != nil {
			return err
		}
		status, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
			return fmt.Errorf("answer %q", status)
		}
		length := -1
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return err
			}
			if len(line) <= 2 {
				break
			}
			if name, value, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(name), "Content-Length") {
				length, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
			}
		}
		if length < 0 {
			return fmt.Errorf("an answer without Content-Length")
		}
		if _, err := r.Discard(length); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}
